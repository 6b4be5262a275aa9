"""Data files glassnet refuses: IDX, digits CSV and text whose header claims more than the
file holds or than the stated limit, gzip streams that end early, go on too long or are
broken, values out of range; every refusal a DataFileError naming the file, a gzip bomb
refused within the memory of the array its header declares, and a seeded mutation sweep
in which every mutated file either loads or raises DataFileError."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from glassnet import data
from glassnet.data import datasets as ds_mod
from glassnet.data import idx as idx_mod
from glassnet.errors import (DataChecksumError, DataFileError, DataFileNotFoundError,
                             GlassnetError)

SRC = str(Path(data.__file__).resolve().parents[2])


def _idx_bytes(arr, magic=None):
    arr = np.asarray(arr, np.uint8)
    head = (magic if magic is not None else 0x0800 + arr.ndim).to_bytes(4, "big")
    head += b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.tobytes()


def _head(*dims):
    return (0x0800 + len(dims)).to_bytes(4, "big") + b"".join(
        int(d).to_bytes(4, "big") for d in dims)


def _bomb_gz(path, head, megabytes):
    """A valid gzip file whose content is ``head`` then ``megabytes`` MiB of zeros, built
    without compressing them all: after the first MiB the window holds only zeros, so every
    further MiB compresses to the same bytes (about 1 KB), repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    mib = bytes(1 << 20)
    first = c.compress(head + mib) + c.flush(zlib.Z_SYNC_FLUSH)
    mid = c.compress(mib) + c.flush(zlib.Z_SYNC_FLUSH)
    assert c.compress(mib) + c.flush(zlib.Z_SYNC_FLUSH) == mid
    last = c.flush()
    crc = zlib.crc32(head + mib)
    for _ in range(megabytes - 1):
        crc = zlib.crc32(mib, crc)
    size = len(head) + megabytes * (1 << 20)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        f.write(first)
        for _ in range(megabytes - 3):          # two more MiB went into the compressor above
            f.write(mid)
        f.write(mid + mid)
        f.write(last)
        f.write(crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little"))
    return path


def _refused_peak(call, match):
    """``call()`` must raise DataFileError matching ``match``; the peak bytes that Python and
    NumPy allocated meanwhile (tracemalloc)."""
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match=match):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_bomb_builder_writes_a_valid_gzip_file(tmp_path):
    head = _head(7)
    f = _bomb_gz(tmp_path / "b.gz", head, 6)
    assert gzip.decompress(f.read_bytes()) == head + bytes(6 << 20)


# ---------------------------------------------------------------- IDX: size and limit
class TestIdxDeclaredSize:
    def test_a_header_over_the_limit_is_refused_before_reading_on(self, tmp_path):
        f = tmp_path / "x-idx1-ubyte"
        f.write_bytes(_head(3_000_000_000) + b"ab")
        with pytest.raises(DataFileError, match=r"more than the limit of 2147483648 bytes"):
            data.read_idx(f)
        assert idx_mod.MAX_IDX_BYTES == 2 << 30

    def test_max_bytes_lowers_and_raises_the_limit(self, tmp_path):
        f = tmp_path / "x-idx1-ubyte.gz"
        f.write_bytes(gzip.compress(_idx_bytes(np.arange(100))))
        with pytest.raises(DataFileError, match=r"\(100 bytes of data\), more than the limit "
                                                r"of 99 bytes") as e:
            data.read_idx(f, max_bytes=99)
        assert str(f) in str(e.value)
        np.testing.assert_array_equal(data.read_idx(f, max_bytes=100), np.arange(100))
        with pytest.raises(ValueError, match="max_bytes"):
            data.read_idx(f, max_bytes=-1)

    def test_a_plain_file_shorter_or_longer_than_its_header_says(self, tmp_path):
        f = tmp_path / "x-idx3-ubyte"
        raw = _idx_bytes(np.zeros((4, 3, 3)))
        f.write_bytes(raw[:-1])
        with pytest.raises(DataFileError, match=r"promises dims \(4, 3, 3\).*truncated"):
            data.read_idx(f)
        f.write_bytes(raw + b"\x00")
        with pytest.raises(DataFileError, match=r"promises dims \(4, 3, 3\) \(52 bytes\) but "
                                                r"the data has 53 bytes"):
            data.read_idx(f)

    @pytest.mark.parametrize("content, match", [
        # 1 GB is under the limit, but no gzip file of this size can hold it
        (_head(1_000_000_000) + bytes(100), "cannot hold more than"),
        (_head(50) + bytes(range(40)), r"promises dims \(50,\) \(58 bytes\) but the data has "
                                       r"48 bytes \(truncated or corrupt\)"),
        (_head(5) + bytes(10), r"more content after the 13 bytes.*trailing"),
    ], ids=["claims-1GB", "shorter", "longer"])
    def test_a_gzip_stream_that_is_not_the_size_its_header_says(self, tmp_path, content,
                                                                 match):
        f = tmp_path / "x-idx1-ubyte.gz"
        f.write_bytes(gzip.compress(content))
        assert _refused_peak(lambda: data.read_idx(f), match) < 4 << 20   # nothing allocated


# ------------------------------------------------------------- IDX: the gzip stream
class TestIdxGzipStream:
    def test_a_cut_compressed_stream(self, tmp_path):
        raw = gzip.compress(_idx_bytes(np.arange(200) % 7))
        f = tmp_path / "x-idx1-ubyte.gz"
        for cut in (5, 12, len(raw) // 2, len(raw) - 4, len(raw) - 1):
            f.write_bytes(raw[:cut])
            with pytest.raises(DataFileError) as e:
                data.read_idx(f)
            assert str(f) in str(e.value)

    def test_a_wrong_crc_or_length_trailer(self, tmp_path):
        raw = bytearray(gzip.compress(_idx_bytes(np.arange(20))))
        f = tmp_path / "x-idx1-ubyte.gz"
        for pos in (-8, -1):
            bad = bytearray(raw)
            bad[pos] ^= 0xFF
            f.write_bytes(bytes(bad))
            with pytest.raises(DataFileError, match="not a valid gzip file"):
                data.read_idx(f)

    def test_garbage_after_the_gzip_member(self, tmp_path):
        f = tmp_path / "x-idx1-ubyte.gz"
        f.write_bytes(gzip.compress(_idx_bytes(np.arange(20))) + b"junk")
        with pytest.raises(DataFileError, match="not a valid gzip file"):
            data.read_idx(f)

    def test_padding_and_several_members_load_as_gzip_reads_them(self, tmp_path):
        raw = _idx_bytes(np.arange(30))
        f = tmp_path / "x-idx1-ubyte.gz"
        for blob in (gzip.compress(raw) + bytes(64),
                     gzip.compress(raw[:10]) + gzip.compress(raw[10:]),
                     gzip.compress(raw) + gzip.compress(b"")):
            assert gzip.decompress(blob) == raw
            f.write_bytes(blob)
            np.testing.assert_array_equal(data.read_idx(f), np.arange(30))

    def test_a_second_member_with_more_data_is_trailing_data(self, tmp_path):
        f = tmp_path / "x-idx1-ubyte.gz"
        f.write_bytes(gzip.compress(_idx_bytes(np.arange(3))) + gzip.compress(b"x"))
        with pytest.raises(DataFileError, match="trailing data"):
            data.read_idx(f)

    def test_not_gzip_at_all(self, tmp_path):
        f = tmp_path / "x-idx1-ubyte.gz"
        f.write_bytes(_idx_bytes(np.arange(3)))
        with pytest.raises(DataFileError, match="not a valid gzip file"):
            data.read_idx(f)

    def test_the_array_is_new_and_writable(self, tmp_path):
        f = tmp_path / "x-idx2-ubyte.gz"
        f.write_bytes(gzip.compress(_idx_bytes(np.ones((3, 4)))))
        a = data.read_idx(f)
        assert a.shape == (3, 4) and a.dtype == np.uint8 and a.flags.writeable
        a[0, 0] = 5


# ------------------------------------------------------------- missing files
class TestMissing:
    def test_read_idx_missing_file_or_folder(self, tmp_path):
        for p in (tmp_path / "nope-idx1-ubyte", tmp_path / "no" / "such" / "x.gz"):
            with pytest.raises(DataFileNotFoundError, match="not found") as e:
                data.read_idx(p)
            assert isinstance(e.value, FileNotFoundError) and str(p) in str(e.value)

    def test_a_folder_where_a_file_is_expected(self, tmp_path):
        with pytest.raises(DataFileError, match="cannot read") as e:
            data.read_idx(tmp_path)
        assert not isinstance(e.value, FileNotFoundError)

    def test_loaders_and_find_data_dir(self, tmp_path):
        for call in (lambda: data.load_digits(tmp_path / "none.csv.gz"),
                     lambda: data.load_text(tmp_path / "none.txt"),
                     lambda: data.load_text(tmp_path),           # a folder without input.txt
                     lambda: data.load_mnist(tmp_path, split="test"),
                     lambda: data.find_data_dir("mnist", tmp_path / "missing")):
            with pytest.raises(DataFileNotFoundError) as e:
                call()
            assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, GlassnetError)


@pytest.mark.parametrize("name", ["x-idx1-ubyte.gz", "x-idx1-ubyte"])
def test_an_io_error_while_reading_is_a_data_file_error(tmp_path, monkeypatch, name):
    f = tmp_path / name
    raw = _idx_bytes(np.arange(10))
    f.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    real_open = data.paths._open

    class Failing:
        def __init__(self, fh):
            self.fh = fh

        def fileno(self):
            return self.fh.fileno()

        def read(self, n):
            raise OSError(5, "Input/output error")

        readinto = read

        def close(self):
            self.fh.close()

    monkeypatch.setattr(data.paths, "_open", lambda p, who: Failing(real_open(p, who)))
    with pytest.raises(DataFileError, match=r"read_idx: cannot read .*Input/output error") as e:
        data.read_idx(f)
    assert str(f) in str(e.value)


# ------------------------------------------------------------- the gzip bomb, measured
_CHILD = textwrap.dedent("""
    import json, resource, sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from glassnet import data
    from glassnet.errors import DataFileError
    try:                                   # reset the peak so it measures this call only
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        data.read_idx(sys.argv[2])
        outcome = "loaded"
    except DataFileError as e:
        outcome = "DataFileError: " + str(e)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "growth_kb": after - before}))
""")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    return {"labels": _bomb_gz(folder / "labels-idx1-ubyte.gz", _head(1000), 3000),
            "images": _bomb_gz(folder / "images-idx3-ubyte.gz", _head(60000, 28, 28), 3000)}


@pytest.mark.parametrize("kind, declared_mb", [("labels", 0.001), ("images", 47.04)])
def test_a_3mb_gzip_that_decompresses_to_3gb_is_refused_in_bounded_memory(bombs, kind,
                                                                          declared_mb):
    f = bombs[kind]
    assert f.stat().st_size < 3.5e6                       # 3 MB on disk, 3 GB inside
    r = subprocess.run([sys.executable, "-c", _CHILD, SRC, str(f)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["outcome"].startswith("DataFileError") and "trailing data" in out["outcome"]
    assert str(f) in out["outcome"]
    growth_mb = out["growth_kb"] / 1024
    assert growth_mb < 100, growth_mb                     # the declared array and a few chunks
    assert growth_mb < declared_mb + 40, growth_mb


# ------------------------------------------------------------- digits CSV
_DIGITS = gzip.decompress((ds_mod._EMBEDDED / "digits.csv.gz").read_bytes())


def _digits_file(tmp_path, text, name="digits.csv.gz"):
    f = tmp_path / name
    f.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    return f


class TestDigits:
    rows = _DIGITS.splitlines()

    def _one(self, tmp_path, row, match, name="digits.csv.gz"):
        f = _digits_file(tmp_path, b"\n".join(self.rows[:3] + [row]) + b"\n", name)
        with pytest.raises(DataFileError, match=match) as e:
            data.load_digits(f, verify=False)
        assert str(f) in str(e.value)

    def test_a_valid_copy_loads_plain_or_gzipped(self, tmp_path):
        X, y = data.load_digits(_digits_file(tmp_path, _DIGITS), verify=False)
        X2, y2 = data.load_digits(_digits_file(tmp_path, _DIGITS, "digits.csv"), verify=False)
        ref = data.load_digits()
        np.testing.assert_array_equal(X, ref[0]) and np.testing.assert_array_equal(X2, ref[0])
        np.testing.assert_array_equal(y, ref[1]) and np.testing.assert_array_equal(y2, ref[1])

    @pytest.mark.parametrize("row, match", [
        (b"0," * 64 + b"x", "not a CSV of integers"),
        (b"0," * 64 + b"nan", "not a CSV of integers"),
        (b"0," * 63 + b"1.5,3", "not a CSV of integers"),
        (b"0," * 63 + b"3", "not a CSV of integers"),             # a ragged row
        (b"0," * 64 + b"99999999999999999999999", "not a CSV of integers"),
        (b"0," * 63 + b"17,3", r"pixel values in \[0, 17\], expected 0..16"),
        (b"-1," + b"0," * 63 + b"3", r"pixel values in \[-1, 16\], expected 0..16"),
        (b"0," * 64 + b"10", r"labels in \[0, 10\], expected 0..9"),
        (b"0," * 64 + b"-1", r"labels in \[-1, 2\], expected 0..9"),
        (b"\xff\xfe," * 64 + b"1", "not a CSV of integers"),
    ])
    def test_bad_rows(self, tmp_path, row, match):
        self._one(tmp_path, row, match)

    def test_a_wrong_column_count(self, tmp_path):
        f = _digits_file(tmp_path, b"1,2,3\n4,5,6\n")
        with pytest.raises(DataFileError, match="has 3 columns, expected 65"):
            data.load_digits(f, verify=False)

    @pytest.mark.parametrize("text", [b"", b"\n\n  \n"])
    def test_an_empty_file(self, tmp_path, text):
        with pytest.raises(DataFileError, match="holds no rows"):
            data.load_digits(_digits_file(tmp_path, text), verify=False)

    def test_not_gzip_and_a_cut_stream(self, tmp_path):
        f = tmp_path / "digits.csv.gz"
        f.write_bytes(_DIGITS[:500])
        with pytest.raises(DataFileError, match="not a valid gzip file"):
            data.load_digits(f, verify=False)
        f.write_bytes(gzip.compress(_DIGITS)[:2000])
        with pytest.raises(DataFileError, match="truncated"):
            data.load_digits(f, verify=False)

    def test_max_bytes_bounds_the_decompression(self, tmp_path):
        f = _bomb_gz(tmp_path / "digits.csv.gz", b"0,", 200)   # 200 MiB inside 0.2 MB
        peak = _refused_peak(lambda: data.load_digits(f, verify=False),
                             "more than the limit of 16777216 bytes")
        # one growing buffer of the limit, plus a decompressed chunk or two (1 MiB each)
        assert peak < 1.2 * ds_mod.MAX_DIGITS_BYTES + (4 << 20), peak
        g = _digits_file(tmp_path, _DIGITS)
        with pytest.raises(DataFileError, match="more than the limit of 1000 bytes"):
            data.load_digits(g, verify=False, max_bytes=1000)

    def test_a_checksum_mismatch_is_still_a_checksum_error(self, tmp_path):
        f = _digits_file(tmp_path, _DIGITS.replace(b"0,0,5,13", b"0,0,5,14", 1))
        with pytest.raises(DataChecksumError):
            data.load_digits(f)


# ------------------------------------------------------------- text
class TestText:
    def test_utf8_loads(self, tmp_path):
        f = tmp_path / "t.txt"
        f.write_text("héllo wörld\n", encoding="utf-8")
        assert data.load_text(f) == "héllo wörld\n"

    @pytest.mark.parametrize("raw, match", [
        (b"caf\xe9 latin-1", "is not UTF-8 text"),
        (b"\xff\xfe\x00h\x00i", "is not UTF-8 text"),
        (b"ok then \xe2\x82", "is not UTF-8 text"),                # a cut multi-byte char
        (b"", "is empty; a text corpus needs at least one character"),
    ])
    def test_bad_text(self, tmp_path, raw, match):
        f = tmp_path / "t.txt"
        f.write_bytes(raw)
        with pytest.raises(DataFileError, match=match) as e:
            data.load_text(f)
        assert str(f) in str(e.value)

    def test_max_bytes(self, tmp_path):
        f = tmp_path / "input.txt"
        f.write_text("abcdef")
        with pytest.raises(DataFileError, match="6 bytes, more than the limit of 5 bytes"):
            data.load_text(tmp_path, max_bytes=5)
        assert data.load_text(tmp_path, max_bytes=6) == "abcdef"
        assert ds_mod.MAX_TEXT_BYTES == 1 << 30

    def test_a_gz_name_is_still_read_as_text(self, tmp_path):
        f = tmp_path / "notes.gz"
        f.write_bytes(b"plain words")
        assert data.load_text(f) == "plain words"


# ------------------------------------------------------------- torchvision-style MNIST
def test_vision_mnist_uses_the_same_bounded_reader(tmp_path):
    from glassnet.vision import datasets
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(np.zeros((2, 28, 28))) + b"\x00"))
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes([1, 2])))
    with pytest.raises(DataFileError, match="trailing data"):
        datasets.MNIST(tmp_path, train=False)


# ------------------------------------------------------------- mutation sweep
def _mutate(blob: bytes, rng) -> bytes:
    b = bytearray(blob)
    kind = rng.integers(8)
    digits = [i for i, c in enumerate(b) if 48 <= c <= 57] if kind == 7 else []
    if digits:                                            # one ASCII digit for another
        b[digits[rng.integers(len(digits))]] = 48 + int(rng.integers(10))
    elif kind == 0 and b:                                   # flip a few bits
        for _ in range(rng.integers(1, 4)):
            b[rng.integers(len(b))] ^= 1 << int(rng.integers(8))
    elif kind == 1 and b:                                 # set bytes to extreme values
        for _ in range(rng.integers(1, 4)):
            b[rng.integers(len(b))] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF]))
    elif kind == 2:                                       # cut the tail
        b = b[:rng.integers(len(b) + 1)]
    elif kind == 3:                                       # insert random bytes
        at = rng.integers(len(b) + 1)
        b[at:at] = rng.integers(0, 256, rng.integers(1, 16)).astype(np.uint8).tobytes()
    elif kind == 4 and b:                                 # delete a slice
        at = rng.integers(len(b))
        del b[at:at + int(rng.integers(1, 16))]
    elif kind == 5 and len(b) > 8:                        # duplicate a slice
        at = rng.integers(len(b) - 4)
        b[at:at] = b[at:at + int(rng.integers(1, 32))]
    else:                                                 # append bytes
        b += rng.integers(0, 256, rng.integers(1, 64)).astype(np.uint8).tobytes()
    return bytes(b)


def _sweep(tmp_path, name, content, load, n, seed, gz):
    """``n`` mutations, half of the content re-compressed (reaching the parser), half of the
    stored file (reaching the gzip reader); counts of (loaded, refused)."""
    rng = np.random.default_rng(seed)
    stored = gzip.compress(content, mtime=0) if gz else content
    f = tmp_path / name
    loaded = refused = 0
    for i in range(n):
        if gz and i % 2 == 0:
            blob = gzip.compress(_mutate(content, rng), mtime=0)
        else:
            blob = _mutate(stored, rng)
        f.write_bytes(blob)
        try:
            load(f)
            loaded += 1
        except DataFileError as e:
            assert str(f) in str(e), (i, str(e))
            refused += 1
        # anything else propagates and fails the test, naming the case through pytest
    return loaded, refused


def test_mutated_idx_files_load_or_raise_data_file_error(tmp_path):
    content = _idx_bytes(np.random.default_rng(1).integers(0, 256, (6, 5, 4)))

    def load(f):
        a = data.read_idx(f)
        assert a.dtype == np.uint8 and a.size <= 1 << 20
    loaded, refused = _sweep(tmp_path, "m-idx3-ubyte.gz", content, load, 200, 15, True)
    assert loaded + refused == 200 and refused > 50 and loaded > 5


def test_mutated_digits_files_load_or_raise_data_file_error(tmp_path):
    content = b"\n".join(_DIGITS.splitlines()[:12]) + b"\n"

    def load(f):
        X, y = data.load_digits(f, verify=False)
        assert X.shape[1] == 64 and len(X) == len(y) and X.min() >= 0 and X.max() <= 16
        assert y.min() >= 0 and y.max() <= 9
    loaded, refused = _sweep(tmp_path, "digits.csv.gz", content, load, 200, 16, True)
    assert loaded + refused == 200 and refused > 50 and loaded > 5


def test_mutated_text_files_load_or_raise_data_file_error(tmp_path):
    content = "First Citizen:\nBefore we proceed — hear me speak. Ünïcödé ✓\n".encode()

    def load(f):
        assert isinstance(data.load_text(f), str)
    loaded, refused = _sweep(tmp_path, "input.txt", content, load, 200, 17, False)
    assert loaded + refused == 200 and refused > 5 and loaded > 50
