"""Write the training sample data sets (seeded, so the files are reproducible).

    python tools/make_drug_trial.py

* sample_data/drug_trial.csv (2080 rows) and drug_trial_test.csv (400 rows): the Keras tutorial's
  clinical trial. Patients aged 13 to 100; 5% of the under-65s and 95% of the 65-and-overs report
  side effects (side_effects = 1). Columns: age, side_effects.
* sample_data/penguins_like.csv: three species (a string label) from bill and flipper sizes,
  body mass and the island they live on (a categorical feature).
* sample_data/housing.csv: a house price (in thousands) from area, rooms, age and a district.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "sample_data"


def drug_trial(rng: np.random.Generator, n_per_group: int) -> list[tuple[int, int]]:
    """The tutorial's loop: per group of 1 outlier + 19 typical patients, young and old."""
    rows: list[tuple[int, int]] = []
    for _ in range(n_per_group // 20):
        rows.append((int(rng.integers(13, 65)), 1))  # young, side effects (the 5%)
        rows.append((int(rng.integers(65, 101)), 0))  # old, none (the 5%)
        for _ in range(19):
            rows.append((int(rng.integers(13, 65)), 0))
            rows.append((int(rng.integers(65, 101)), 1))
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def write(name: str, header: list[str], rows: list) -> None:
    with open(OUT / name, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def penguins(rng: np.random.Generator, n: int) -> list[tuple]:
    species = {  # bill length, bill depth, flipper length, mass; islands with weights
        "Adelie": ((38.8, 2.7), (18.3, 1.2), (190.0, 6.5), (3700, 460),
                   {"Biscoe": .3, "Dream": .35, "Torgersen": .35}),
        "Chinstrap": ((48.8, 3.3), (18.4, 1.1), (196.0, 7.1), (3730, 380), {"Dream": 1.0}),
        "Gentoo": ((47.5, 3.1), (15.0, 1.0), (217.0, 6.5), (5080, 500), {"Biscoe": 1.0}),
    }
    names = list(species)
    rows = []
    for _ in range(n):
        name = names[int(rng.choice(3, p=[0.44, 0.2, 0.36]))]
        bl, bd, fl, mass, islands = species[name]
        island = str(rng.choice(list(islands), p=list(islands.values())))
        rows.append((
            island, round(rng.normal(*bl), 1), round(rng.normal(*bd), 1),
            int(round(rng.normal(*fl))), int(round(rng.normal(*mass), -1)), name,
        ))
    return rows


def housing(rng: np.random.Generator, n: int) -> list[tuple]:
    districts = {"centre": 1.45, "suburb": 1.0, "riverside": 1.2, "outskirts": 0.8}
    rows = []
    for _ in range(n):
        district = str(rng.choice(list(districts)))
        area = int(np.clip(rng.normal(95, 30), 30, 250))
        rooms = int(np.clip(round(area / 28 + rng.normal(0, 0.7)), 1, 9))
        age = int(rng.integers(0, 80))
        price = districts[district] * (60 + 2.1 * area + 9 * rooms - 0.6 * age) + rng.normal(0, 15)
        rows.append((area, rooms, age, district, round(float(price), 1)))
    return rows


def main() -> None:
    rng = np.random.default_rng(2024)
    write("drug_trial.csv", ["age", "side_effects"], drug_trial(rng, 1050))
    write("drug_trial_test.csv", ["age", "side_effects"], drug_trial(rng, 210))
    header = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "species"]
    write("penguins_like.csv", header, penguins(rng, 300))
    write("housing.csv", ["area_m2", "rooms", "age_years", "district", "price_k"], housing(rng, 400))


if __name__ == "__main__":
    main()
