"""The chunked, multi-host side of the steps (design 13): the faster cleaning gives the legacy
values, dtypes combine as the whole table's would, partial sums are exact whatever the order, and
the summary from partial sums is the legacy summary."""

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from step_scripts import ROOT, post, pre

# --- cleaning once per distinct value == the legacy statements ---------------------------------

@pytest.fixture(autouse=True)
def distinct_values_at_any_size(monkeypatch):
    """The once-per-distinct-value path even for the few rows of a test (a request of fewer than
    FEW_ROWS rows takes the legacy statements themselves)."""
    monkeypatch.setattr(pre, "FEW_ROWS", 0)


def test_a_few_rows_take_the_legacy_statements(monkeypatch):
    monkeypatch.setattr(pre, "FEW_ROWS", 256)
    assert pre.distinct(pd.Series(["a", "b"] * 127)) is None
    assert pre.distinct(pd.Series(["a", "b"] * 128)) is not None


NUMBER_TEXTS = [" 45 ", "7", "unknown", "", "12.5", "inf", "-inf", "-0.0", "-0", " 1e5", "1.",
                ".5", "+3", "0x10", "nan", "NaN", "99999999999999999999", "1_000", "\t8\n",
                "3.14159265358979323846", "1e-320", "TBD", "#VALUE!", "-", "?"]


def legacy_number(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    return numbers.replace([np.inf, -np.inf], np.nan)


def legacy_category(values: pd.Series, missing: str, upper: bool) -> pd.Series:
    text = values.fillna(missing).astype(str).str.strip()
    text = text.str.upper() if upper else text.str.lower()
    text.loc[text == ""] = missing
    return text


@pytest.mark.parametrize("seed", range(4))
def test_text_numbers_parse_to_the_legacy_values_and_dtype(seed):
    rng = np.random.default_rng(seed)
    cells = rng.choice(np.array(NUMBER_TEXTS + [None], dtype=object), 3000)
    values = pd.read_csv(pd.io.common.StringIO("x\n" + "\n".join(
        '""' if c is None else '"' + c.replace('"', '""') + '"' for c in cells) + "\n"))["x"]
    pd.testing.assert_series_equal(pre.to_number(values), legacy_number(values), check_exact=True)


@pytest.mark.parametrize("values", [
    pd.Series(["1", " 2", "3 "]),                       # all ints: int64 as in the legacy
    pd.Series(["1", None, "3"]),                        # a missing cell makes float
    pd.Series([1, 2, 3]), pd.Series([1.5, np.inf, np.nan, -0.0]),
    pd.Series([1, "x", 2.5], dtype=object),             # mixed objects: the legacy statement itself
    pd.Series([True, False]), pd.Series([], dtype=object),
], ids=["ints", "missing", "int-column", "float-column", "mixed", "bool", "empty"])
def test_every_column_kind_gives_the_legacy_numbers(values):
    pd.testing.assert_series_equal(pre.to_number(values), legacy_number(values), check_exact=True)


@pytest.mark.parametrize("upper", [False, True])
def test_categories_once_per_distinct_value_equal_the_legacy(upper):
    values = pd.Series(["Online TA", " ONLINE TA", None, "", "  ", "null", "Straße", "İstanbul",
                        "a\x1cb ", "\u00a0x\u2003"] * 50)
    missing = "UNK" if upper else "unknown"
    pd.testing.assert_series_equal(pre.to_category(values, missing, upper),
                                   legacy_category(values, missing, upper), check_exact=True)


@pytest.mark.parametrize("values", [
    pd.Series([" July", "AUGUST", "july"]), pd.Series(["July", None, "Juli"]),
    pd.Series([7, 8]), pd.Series([], dtype=object)], ids=["found", "missing", "numbers", "empty"])
def test_month_numbers_equal_the_legacy_map(values):
    legacy = values.astype(str).str.strip().str.lower().map(pre.MONTHS)
    pd.testing.assert_series_equal(pre.month_number(values), legacy, check_exact=True,
                                   check_index_type=False)


def test_a_few_rows_clean_to_the_values_and_dtypes_of_the_whole_file_path(monkeypatch,
                                                                          legacy_frame):
    """A request's few rows take shortcuts (the legacy weekday call, the legacy statements
    instead of once per distinct value): not one value or dtype differs."""
    rng = np.random.default_rng(5)
    for start in rng.integers(0, len(legacy_frame) - 8, 60):
        rows = legacy_frame.iloc[start:start + rng.integers(1, 8)].reset_index(drop=True)
        monkeypatch.setattr(pre, "FEW_ROWS", 0)
        whole = pre.preprocess(rows)
        monkeypatch.setattr(pre, "FEW_ROWS", 256)
        pd.testing.assert_frame_equal(pre.preprocess(rows), whole, check_exact=True)


@pytest.mark.parametrize("days", [[29.0, 30.0, 31.0], [1.0, 14.9, np.nan], [31.0, 31.0, 31.0],
                                  [np.inf, 1e300, 5.0]])
def test_the_few_rows_weekday_has_the_vectorised_values_and_dtype(monkeypatch, days):
    year, month = pd.Series([2016.0, 2017.0, 2015.0]), pd.Series([2.0, 2.0, 6.0])
    whole = pre.arrival_weekday(year, month, pd.Series(days))
    monkeypatch.setattr(pre, "FEW_ROWS", 256)
    pd.testing.assert_series_equal(pre.arrival_weekday(year, month, pd.Series(days)), whole,
                                   check_exact=True)


@pytest.mark.parametrize("values", [[1.0, 2.0], [1, 2], [-1.0, 2.0], [np.nan, 3.0], [-1, 5]],
                         ids=["floats", "ints", "floats-selected", "missing", "ints-selected"])
def test_setting_missing_where_nothing_is_selected_is_the_legacy_statement(values):
    legacy = pd.DataFrame({"x": values})
    legacy.loc[legacy["x"] < 0, "x"] = np.nan
    ours = pd.DataFrame({"x": values})
    pre.set_missing(ours, "x", ours["x"] < 0)
    pd.testing.assert_frame_equal(ours, legacy, check_exact=True)


@pytest.mark.parametrize("values", [["Online TA", " BB "], ["x", ""], ["a", None]])
def test_a_few_categories_are_the_legacy_statement(monkeypatch, values):
    monkeypatch.setattr(pre, "FEW_ROWS", 256)
    series = pd.Series(values)
    pd.testing.assert_series_equal(pre.to_category(series, "unknown"),
                                   legacy_category(series, "unknown", False), check_exact=True)


@pytest.mark.parametrize("values", [[np.nan, np.nan], [np.nan, 2.5], [0.1 + 0.2, 1e20, -0.0]],
                         ids=["empty", "missing", "numbers"])
def test_a_float_category_column_gives_the_legacy_text_without_a_warning(monkeypatch, values):
    import warnings
    series = pd.Series(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = legacy_category(series, "unknown", False)
    for few_rows in (0, 256):
        monkeypatch.setattr(pre, "FEW_ROWS", few_rows)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = pre.to_category(series, "unknown")
        pd.testing.assert_series_equal(ours, legacy, check_exact=True)


def test_cleaning_a_chunk_in_place_equals_cleaning_a_copy(legacy_frame):
    copy = pre.preprocess(legacy_frame)
    in_place = pre.preprocess(legacy_frame.copy(), copy=False)
    pd.testing.assert_frame_equal(in_place, copy, check_exact=True)


@pytest.fixture
def legacy_frame() -> pd.DataFrame:
    return pd.read_csv(ROOT / "examples" / "data" / "bookings.csv")


# --- the whole table's dtypes ------------------------------------------------------------------

@pytest.mark.parametrize("names,expected", [
    (["int64"], "int64"), (["int64", "int32"], "int64"), (["int64", "float64"], "float64"),
    (["int32", "float64", "int64"], "float64"), (["str"], "str"), (["str", "float64"], "object"),
    (["object", "int64"], "object"), (["bool", "int64"], "object"), (["float64", "float64"], "float64"),
])
def test_dtypes_combine_as_pandas_combines_a_column(names, expected):
    assert post.common_dtype(names) == expected


def test_the_concatenated_pieces_have_the_dtype_pandas_gives_them():
    pieces = {"int64": pd.Series([1, 2]), "int32": pd.Series([3], dtype="int32"),
              "float64": pd.Series([0.5])}
    for names in (["int64", "int32"], ["int64", "float64"], ["int32", "float64"]):
        whole = pd.concat([pieces[n] for n in names])
        assert post.common_dtype(names) == str(whole.dtype)


def test_a_part_is_cast_only_where_its_dtype_differs():
    part = pd.DataFrame({"a": [1, 2], "b": [1.5, 2.0], "c": ["x", "y"]})
    cast = post.cast_to(part, {"a": "float64", "b": "float64", "z": "int64"})
    assert cast.dtypes.astype(str).tolist() == ["float64", "float64", str(part["c"].dtype)]
    assert post.cast_to(part, {"b": "float64"}) is part


# --- exact partial sums ------------------------------------------------------------------------

def awkward_sums(rng, n):
    return np.concatenate([rng.random(n), rng.random(n) * 1e6, np.round(rng.random(n) * 5000, 2),
                           [5e-324, 1e-310, -0.0, 0.0, 1e300, -1e300, 2.0 ** -1074 * 3, np.nan]])


@pytest.mark.parametrize("seed", range(3))
def test_partial_sums_are_exact_and_do_not_depend_on_order_or_sharding(seed):
    rng = np.random.default_rng(seed)
    values = awkward_sums(rng, 5000)
    codes = rng.integers(0, 3, len(values))
    whole = post.exact_sums(values, codes, 3)
    for g in range(3):
        chosen = values[(codes == g) & ~np.isnan(values)]
        assert Fraction(whole[g], 2 ** 1074) == sum(map(Fraction, chosen.tolist()), Fraction(0))
        assert float(Fraction(whole[g], 2 ** 1074)) == math.fsum(chosen.tolist())
    order = rng.permutation(len(values))
    shards = np.array_split(order, 5)
    pieces = [post.exact_sums(values[s], codes[s], 3) for s in shards]
    assert [sum(p[g] for p in reversed(pieces)) for g in range(3)] == whole


def test_an_infinite_value_cannot_be_summed():
    with pytest.raises(post.StepError, match="infinite"):
        post.exact_sums(np.array([1.0, np.inf]), np.array([0, 0]), 1)


def scored_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: ["x"] * n for c in post.REQUIRED_COLS})
    frame["booking_id"] = np.arange(n)
    frame["cancel_probability"] = rng.random(n)
    frame["adr"] = np.where(rng.random(n) < 0.05, np.nan, np.round(rng.random(n) * 300, 2))
    frame["total_nights"] = rng.integers(0, 9, n).astype(float)
    frame["market_segment"] = rng.choice(["groups", "online ta", "direct", "corporate"], n)
    return post.score_bookings(frame)


@pytest.mark.parametrize("shards", [1, 2, 5])
def test_the_summary_from_partials_is_the_legacy_summary_to_the_byte(shards, tmp_path):
    bookings = scored_frame(20_000, shards)
    expected = post.segment_summary(bookings).to_csv()
    for host, rows in enumerate(np.array_split(np.arange(len(bookings)), shards)):
        totals = {}
        for piece in np.array_split(rows, 3):
            post.add_partials(totals, bookings.iloc[piece])
        hosts = [f"algo-{i + 1}" for i in range(shards)]
        (tmp_path / f"algo-{host + 1}.json").write_text(post.partials_json(totals, hosts[host], hosts))
    assert post.summary_from_partials(post.read_partials(tmp_path)).to_csv() == expected


def test_summarize_refuses_partials_missing_a_host(tmp_path):
    (tmp_path / "algo-1.json").write_text(post.partials_json({}, "algo-1", ["algo-1", "algo-2"]))
    with pytest.raises(post.StepError, match="missing for host\\(s\\) algo-2"):
        post.read_partials(tmp_path)


def test_summarize_refuses_a_file_that_is_not_partials(tmp_path):
    (tmp_path / "algo-1.json").write_text('{"rows": 3}')
    with pytest.raises(post.StepError, match="algo-1.json: not a partial-sums file"):
        post.read_partials(tmp_path)


# --- results in parts: the header only in the globally first part -------------------------------

def write_parts(folder: Path, frame: pd.DataFrame, sizes: list[int]) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    names, start = [], 0
    for index, size in enumerate(sizes):
        name = f"bookings.csv/part-{index:06d}.parquet"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        piece = frame.iloc[start:start + size].reset_index(drop=True)
        pq.write_table(pa.Table.from_pandas(piece, preserve_index=False), folder / name)
        names.append(name)
        start += size
    return names


def test_parts_of_several_hosts_concatenate_to_the_one_host_file(tmp_path):
    frame = scored_frame(1000, 9)[post.REQUIRED_COLS]
    frame["total_nights"] = frame["total_nights"].astype("int64")  # int in the parts ...
    data = tmp_path / "data"
    names = write_parts(data, frame, [400, 400, 200])
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "algo-1.json").write_text(json.dumps(
        {"parts": names, "dtypes": {"total_nights": ["int64", "float64"]}, "rows": 1000}))  # ... float overall
    hosts = ["algo-1", "algo-2"]
    for host in hosts:
        shard = tmp_path / f"shard-{host}"
        for i, name in enumerate(names):
            if i % 2 == hosts.index(host):
                (shard / name).parent.mkdir(parents=True, exist_ok=True)
                (shard / name).write_bytes((data / name).read_bytes())
        config = tmp_path / f"{host}.json"
        config.write_text(json.dumps({"current_host": host, "hosts": hosts}))
        post.run(shard, tmp_path / "out", schema_dir=schema, resource_config=config)
    parts = sorted(p for p in (tmp_path / "out" / "results" / "predictions.csv.parts").rglob("*.csv")
                   if p.is_file())
    assert [p.name for p in parts] == ["part-000000.csv", "part-000001.csv", "part-000002.csv"]
    cat = b"".join(p.read_bytes() for p in parts)
    whole = frame.astype({"total_nights": "float64"})
    assert cat == post.score_bookings(whole).to_csv(index=False).encode()
    assert cat.count(b"booking_id") == 1
    assert cat != post.score_bookings(frame).to_csv(index=False).encode()  # the cast mattered
    post.run(data, tmp_path / "one", schema_dir=schema, resource_config=tmp_path / "absent.json")
    assert (tmp_path / "one" / "results" / "predictions.csv").read_bytes() == cat


def test_several_hosts_need_the_schema_folder(tmp_path):
    names = write_parts(tmp_path / "data", scored_frame(10, 1)[post.REQUIRED_COLS], [10])
    config = tmp_path / "rc.json"
    config.write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1", "algo-2"]}))
    with pytest.raises(post.StepError, match="--schema-dir"):
        post.run(tmp_path / "data", tmp_path / "out", schema_dir=tmp_path / "nope", resource_config=config)
    assert names


def test_a_part_not_in_the_schema_is_refused(tmp_path):
    write_parts(tmp_path / "data", scored_frame(10, 1)[post.REQUIRED_COLS], [10])
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "algo-1.json").write_text('{"parts": [], "dtypes": {}, "rows": 0}')
    with pytest.raises(post.StepError, match="not listed by any schema file"):
        post.run(tmp_path / "data", tmp_path / "out", schema_dir=tmp_path / "schema",
                 resource_config=tmp_path / "absent.json")


def test_an_instance_given_no_part_writes_empty_partials(tmp_path):
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "algo-1.json").write_text(
        '{"parts": ["b.csv/part-000000.parquet"], "dtypes": {}, "rows": 5}')
    config = tmp_path / "rc.json"
    config.write_text(json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}))
    assert post.run(tmp_path / "empty", tmp_path / "out", schema_dir=tmp_path / "schema",
                    resource_config=config) == 0
    assert json.loads((tmp_path / "out" / "partials" / "algo-2.json").read_text())["segments"] == {}
    assert not (tmp_path / "out" / "results").exists()


# --- the result writer, once per distinct value --------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_repeated_awkward_floats_and_texts_give_pandas_bytes(seed, tmp_path):
    rng = np.random.default_rng(seed)
    floats = np.array([0.0, -0.0, 1e-4, 9.999999999999999e-05, 1e16, 5e-324, np.nan, np.inf, 0.1,
                       1 / 3, 2.5, -1.0, 100.0, 1e22, 123456789.123])
    texts = np.array(["plain", "a,b", 'say "hi"', "two\nlines", "", None, "nan", " pad "], dtype=object)
    frame = pd.DataFrame({"f": rng.choice(floats, 5000), "s": rng.choice(texts, 5000),
                          "t": pd.Series(rng.choice(texts, 5000)).astype("str"),
                          "i": rng.integers(-3, 3, 5000), "i32": rng.integers(-3, 3, 5000).astype("int32")})
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    post.write_result_csv(frame, tmp_path / "ours.csv", chunk_rows=1_001)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_appending_parts_gives_the_bytes_of_the_whole(tmp_path):
    frame = pd.DataFrame({"x": [0.5, -0.0, np.nan, 3.0], "b": [True, False, True, True]})  # bool: pandas
    with open(tmp_path / "ours.csv", "wb") as out:
        post.append_result_csv(frame.iloc[:2], out, header=True)
        post.append_result_csv(frame.iloc[2:], out, header=False)
    assert (tmp_path / "ours.csv").read_text() == frame.to_csv(index=False)


def test_rows_without_a_segment_are_left_out_of_the_summary_as_groupby_does(tmp_path):
    bookings = scored_frame(200, 4)
    bookings.loc[bookings.index[::7], "market_segment"] = None
    totals = {}
    post.add_partials(totals, bookings)
    (tmp_path / "algo-1.json").write_text(post.partials_json(totals, "algo-1", ["algo-1"]))
    assert (post.summary_from_partials(post.read_partials(tmp_path)).to_csv()
            == post.segment_summary(bookings).to_csv())
