"""Every common shape of an input reads as the same table: TSV and other delimiters, compressed
files (by name and by their first bytes, on stdin too), globs, several files, folders of CSV or
Parquet parts; and each way of getting one wrong is one line on stderr naming the file."""

from __future__ import annotations

import bz2
import gzip
import lzma
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossctl.cli import main
from lossctl.io.writer import number_text

ROWS = [(float(i % 7), i / 8) for i in range(40)]
EXPECTED = f"{float(np.mean([(t - p) ** 2 for t, p in ROWS]))!r}\n"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def csv_text(rows=ROWS, sep: str = ",", header: str = "y_true,y_pred") -> str:
    return header.replace(",", sep) + "\n" + "".join(f"{t!r}{sep}{p!r}\n" for t, p in rows)


@pytest.mark.parametrize(("name", "sep"), [("d.tsv", "\t"), ("d.tab", "\t"), ("d.csv", ";"),
                                           ("d.csv", "|"), ("d.txt", "\t"), ("d.tsv.gz", "\t")])
def test_delimiters_by_name_or_sniffed(capsys, tmp_path: Path, reader, name: str, sep: str):
    text = csv_text(sep=sep).encode()
    (tmp_path / name).write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    assert run(capsys, "compute", "-l", "mse", str(tmp_path / name)) == (0, EXPECTED, "")


def test_delimiter_option(capsys, tmp_path: Path):
    path = tmp_path / "d.csv"
    # more commas than semicolons in the header: sniffing takes the comma
    path.write_text("y_true;y_pred,old,new\n" + "".join(f"{t!r};{p!r}\n" for t, p in ROWS))
    assert run(capsys, "compute", "-l", "mse", str(path))[0] == 2  # no y_true column found
    for given in (";", "semicolon"):
        code, out, _ = run(capsys, "compute", "-l", "mse", "--delimiter", given, "--pred", "y_pred*",
                           str(path))
        assert (code, out) == (0, EXPECTED)


@pytest.mark.parametrize("given", ["ab", '"', "x", ""])
def test_bad_delimiter_is_a_usage_error(capsys, tmp_path: Path, given: str):
    path = tmp_path / "d.csv"
    path.write_text(csv_text())
    code, out, err = run(capsys, "compute", "-l", "mse", "--delimiter", given, str(path))
    assert (code, out) == (2, "")
    assert err.startswith("lossctl: error: --delimiter takes one character")
    assert err.count("\n") == 1


COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


def zstd_compress(data: bytes) -> bytes:
    import pyarrow as pa

    return pa.Codec("zstd").compress(data, asbytes=True)


COMPRESS[".zst"] = zstd_compress


@pytest.mark.parametrize("ending", list(COMPRESS))
def test_compressed_by_name_and_by_content(capsys, tmp_path: Path, reader, ending: str):
    data = COMPRESS[ending](csv_text().encode())
    (tmp_path / f"d.csv{ending}").write_bytes(data)
    (tmp_path / "unnamed").write_bytes(data)  # told by its first bytes
    for name in (f"d.csv{ending}", "unnamed"):
        assert run(capsys, "compute", "-l", "mse", str(tmp_path / name)) == (0, EXPECTED, "")


def test_concatenated_gzip_members(capsys, tmp_path: Path):
    text = csv_text()
    cut = text.index("\n", len(text) // 2) + 1
    members = gzip.compress(text[:cut].encode()) + gzip.compress(text[cut:].encode())
    (tmp_path / "d.csv.gz").write_bytes(members)
    assert run(capsys, "compute", "-l", "mse", str(tmp_path / "d.csv.gz")) == (0, EXPECTED, "")


@pytest.mark.parametrize("ending", [".gz", ".zst"])
def test_compressed_stdin(ending: str):
    rows = [(float(i % 5), i / 3) for i in range(100_000)]  # 1.9 MB: read in chunks
    data = COMPRESS[ending](csv_text(rows).encode())
    done = subprocess.run([sys.executable, "-m", "lossctl", "compute", "-l", "mse", "-r", "sum", "-"],
                          input=data, capture_output=True, check=True)
    expected = sum((t - p) ** 2 for t, p in rows)
    assert float(done.stdout) == pytest.approx(expected, rel=1e-12)


# -- several files as one table ---------------------------------------------------------------


def write_parts(folder: Path, pieces: list[list[tuple[float, float]]], ending: str = ".csv") -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for k, rows in enumerate(pieces):
        path = folder / f"part-{k:03d}{ending}"
        text = csv_text(rows).encode()
        path.write_bytes(gzip.compress(text) if ending.endswith(".gz") else text)
        paths.append(path)
    return paths


def write_parquet_parts(folder: Path, pieces: list[list[tuple[float, float]]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(exist_ok=True)
    for k, rows in enumerate(pieces):
        t, p = zip(*rows, strict=True) if rows else ((), ())
        pq.write_table(pa.table({"y_true": pa.array(t, pa.float64()), "y_pred": pa.array(p, pa.float64())}),
                       folder / f"part-{k}.parquet")


PIECES = [ROWS[:15], [], ROWS[15:16], ROWS[16:]]  # an empty part among them


@pytest.mark.parametrize("shape", ["folder", "glob", "files", "gz folder", "parquet folder"])
def test_parts_read_as_one_table(capsys, tmp_path: Path, reader, shape: str):
    folder = tmp_path / "parts"
    if shape == "parquet folder":
        write_parquet_parts(folder, PIECES)
        args = [str(folder)]
    else:
        paths = write_parts(folder, PIECES, ".csv.gz" if shape == "gz folder" else ".csv")
        (folder / "_SUCCESS").write_text("")  # markers and hidden files are not parts
        (folder / ".part-000.csv.crc").write_text("x")
        args = {"folder": [str(folder)], "gz folder": [str(folder)], "glob": [str(folder / "*.csv")],
                "files": [str(p) for p in paths]}[shape]
    assert run(capsys, "compute", "-l", "mse", *args) == (0, EXPECTED, "")
    out = run(capsys, "compute", "-l", "mse", "-r", "none", *args)[1]
    assert len(out.splitlines()) == len(ROWS)


def test_parts_are_read_in_sorted_order(capsys, tmp_path: Path):
    folder = tmp_path / "parts"
    write_parts(folder, [ROWS[:2], ROWS[2:4]])
    (folder / "part-000.csv").rename(folder / "z.csv")
    out = run(capsys, "compute", "-l", "mse", "-r", "none", str(folder))[1].split()
    assert out == [number_text((t - p) ** 2) for t, p in ROWS[2:4] + ROWS[:2]]  # per-row style


def test_an_error_names_the_part_and_its_line(capsys, tmp_path: Path, reader):
    folder = tmp_path / "parts"
    write_parts(folder, [ROWS[:5], ROWS[5:10]])
    (folder / "part-001.csv").write_text(csv_text(ROWS[5:10]).replace("5.0,", "oops,", 1))
    code, out, err = run(capsys, "compute", "-l", "mse", str(folder))
    assert (code, out) == (1, "")
    part = folder / "part-001.csv"
    assert err == f"lossctl: error: {part}: line 2, column y_true: 'oops' is not a number\n"


def test_a_loss_error_names_the_part_and_its_line(capsys, tmp_path: Path):
    folder = tmp_path / "parts"
    write_parts(folder, [[(0.0, 0.5)] * 3, [(1.0, 0.5), (1.0, 1.5)]])
    for extra in ([], ["--grad"]):
        code, _, err = run(capsys, "compute", "-l", "torch.binary_cross_entropy", *extra, str(folder))
        assert code == 1
        assert err.startswith(f"lossctl: error: {folder / 'part-001.csv'}: line 3, column y_pred: ")


def test_nan_drop_is_the_same_in_every_shape(capsys, tmp_path: Path, reader):
    rows = [(1.0, 2.0), (float("nan"), 1.0), (3.0, 5.0), (2.0, float("nan")), (4.0, 4.5)]
    text = csv_text(rows).replace("nan", "")
    (tmp_path / "d.csv").write_text(text)
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(text.replace(",,", ",NaN,").encode()))
    write_parts(tmp_path / "parts", [rows[:2], rows[2:]])
    write_parquet_parts(tmp_path / "pq", [rows[:3], rows[3:]])
    outputs = {run(capsys, "compute", "-l", "mse", "--nan", "drop", str(tmp_path / name))
               for name in ("d.csv", "d.csv.gz", "parts", "pq")}
    assert outputs == {(0, f"{(1 + 4 + 0.25) / 3!r}\n", "")}


def test_labels_from_parts(capsys, tmp_path: Path):
    write_parts(tmp_path / "preds", [ROWS[:20], ROWS[20:]])
    labels = tmp_path / "labels.csv.gz"
    labels.write_bytes(gzip.compress(("y\n" + "".join(f"{t!r}\n" for t, _ in ROWS)).encode()))
    code, out, _ = run(capsys, "compute", "-l", "mse", "--pred", "y_pred", "--labels", str(labels),
                       str(tmp_path / "preds"))
    assert (code, out) == (0, EXPECTED)


# -- bad input: one line on stderr naming the file, exit 1, nothing on stdout -----------------


def bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    (tmp_path / "empty").mkdir()
    write_parts(tmp_path / "mixed", [ROWS[:3]])
    write_parquet_parts(tmp_path / "mixed", [ROWS[3:6]])
    differ = tmp_path / "differ"
    write_parts(differ, [ROWS[:3], ROWS[3:6]])
    (differ / "part-001.csv").write_text(csv_text(ROWS[3:6], header="y_true,pred"))
    (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(csv_text().encode())[:-30])
    (tmp_path / "not.csv.gz").write_text(csv_text())
    (tmp_path / "crc.csv.gz").write_bytes(_bad_crc(gzip.compress(csv_text().encode())))
    (tmp_path / "d.csv.lz4").write_bytes(b"\x04\x22\x4d\x18" + b"\x00" * 20)
    (tmp_path / "d.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    return {
        "glob matching nothing": ([str(tmp_path / "no*.csv")], f"{tmp_path / 'no*.csv'}: no file matches"),
        "empty folder": ([str(tmp_path / "empty")], f"{tmp_path / 'empty'}: is an empty folder"),
        "CSV and Parquet parts": ([str(tmp_path / "mixed")], f"{tmp_path / 'mixed'}: mixes CSV and Parquet"),
        "headers differ": ([str(differ)], f"{differ / 'part-001.csv'}: its columns (y_true, pred) differ"),
        "truncated gzip": ([str(tmp_path / "cut.csv.gz")],
                           f"{tmp_path / 'cut.csv.gz'}: gzip data ends early"),
        "named .gz, not gzip": ([str(tmp_path / "not.csv.gz")],
                                f"{tmp_path / 'not.csv.gz'}: is named .gz but is not gzip data"),
        "gzip with a bad checksum": ([str(tmp_path / "crc.csv.gz")],
                                     f"{tmp_path / 'crc.csv.gz'}: is not valid gzip data"),
        "lz4": ([str(tmp_path / "d.csv.lz4")], f"{tmp_path / 'd.csv.lz4'}: is lz4 compressed"),
        "zip": ([str(tmp_path / "d.zip")], f"{tmp_path / 'd.zip'}: is zip compressed"),
    }


def _bad_crc(data: bytes) -> bytes:
    return data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:]


CASES = ["glob matching nothing", "empty folder", "CSV and Parquet parts", "headers differ",
         "truncated gzip", "named .gz, not gzip", "gzip with a bad checksum", "lz4", "zip"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bad_input(capsys, tmp_path: Path, case: str, reduction: str):
    args, message = bad_inputs(tmp_path)[case]
    code, out, err = run(capsys, "compute", "-l", "mse", "-r", reduction, *args)
    assert (code, out) == (1, "")
    assert err.startswith(f"lossctl: error: {message}")
    assert err.count("\n") == 1


def test_stdin_only_alone(capsys, tmp_path: Path):
    (tmp_path / "d.csv").write_text(csv_text())
    assert run(capsys, "compute", "-l", "mse", "-", str(tmp_path / "d.csv"))[0] == 2


def test_several_inputs_must_be_files(tmp_path: Path):
    (tmp_path / "d.csv").write_text(csv_text())
    shell = f"{sys.executable} -m lossctl compute -l mse {tmp_path / 'd.csv'} <(cat {tmp_path / 'd.csv'})"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert "is not a regular file; of several inputs each is read twice" in done.stderr
