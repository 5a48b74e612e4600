# Write tests/fixtures/proc_delong.json: DeLong's AUC variance, interval and paired test from R's
# pROC itself (Debian: r-cran-proc, pROC 1.18). Run from the repository root:
#     Rscript tools/make_fixtures_proc.R
suppressMessages({library(pROC); library(jsonlite)})
set.seed(20261205)
cases <- list()
add <- function(id, y, a, b, level) {
  ra <- roc(y, a, levels = c(0, 1), direction = "<", quiet = TRUE)
  rb <- roc(y, b, levels = c(0, 1), direction = "<", quiet = TRUE)
  ci <- as.numeric(ci.auc(ra, conf.level = level, method = "delong"))
  t <- roc.test(ra, rb, method = "delong", paired = TRUE, conf.level = level)
  cases[[length(cases) + 1]] <<- list(
    id = id, loss = "sklearn.roc_auc_score", y_true = y, score_a = a, score_b = b, level = level,
    auc_a = as.numeric(auc(ra)), var_a = var(ra, method = "delong"),
    ci_a = c(ci[1], ci[3]), auc_b = as.numeric(auc(rb)),
    z = unname(t$statistic), p_value = t$p.value, diff_ci = as.numeric(t$conf.int))
}
n <- 200; y <- rbinom(n, 1, 0.4); a <- rnorm(n) + y; b <- a + rnorm(n, sd = 0.8)
add("continuous", y, a, b, 0.95)
add("continuous_90", y, a, b, 0.9)
add("continuous_99", y, a, b, 0.99)
add("ties", y, round(a), round(b * 2) / 2, 0.95)
n <- 500; y <- c(rep(1, 5), rep(0, 495)); a <- rnorm(n) + 1.5 * y; b <- rnorm(n) + 0.5 * y
add("unbalanced", y, a, b, 0.95)
y <- rbinom(60, 1, 0.5); a <- rnorm(60) - y; b <- rnorm(60) + y
add("below_half", y, a, b, 0.95)
n <- 2000; y <- rbinom(n, 1, 0.3); a <- rnorm(n) + 0.7 * y; b <- 0.6 * a + rnorm(n) + 0.3 * y
add("large", y, a, b, 0.95)
y <- c(0, 0, 1, 1, 0, 1, 0, 1, 1, 0); a <- c(0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.5, 0.5, 0.7, 0.3)
add("small", y, a, rev(a), 0.95)
writeLines(toJSON(list(proc = as.character(packageVersion("pROC")), cases = cases), digits = NA,
                  auto_unbox = TRUE), "tests/fixtures/proc_delong.json")
