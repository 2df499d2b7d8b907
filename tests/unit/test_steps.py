"""The pure functions of the three migrated steps, and their agreement with the legacy functions."""

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from step_scripts import ROOT, load, post, pre, predict

STEPS = [pre, predict, post]


@pytest.fixture(scope="module")
def legacy():
    """legacy_src/utils.py and make_data.py, imported the way the legacy scripts import them."""
    sys.path.insert(0, str(ROOT / "legacy_src"))
    try:
        yield load("legacy_utils", ROOT / "legacy_src" / "utils.py"), \
            load("legacy_make_data", ROOT / "legacy_src" / "make_data.py")
    finally:
        sys.path.remove(str(ROOT / "legacy_src"))


# --- preprocessing ------------------------------------------------------------------------------

def test_numbers_padded_with_spaces_are_read_and_junk_becomes_missing():
    values = pd.Series([" 45 ", "  7", "unknown", "", "12.5", "inf", "-inf", np.nan], dtype=object)
    out = pre.to_number(values)
    assert out.iloc[:2].tolist() == [45, 7]
    assert out.iloc[4] == 12.5
    assert out.iloc[[2, 3, 5, 6, 7]].isna().all()


def test_categories_ignore_case_and_padding_and_empty_becomes_unknown():
    values = pd.Series(["Online TA", " ONLINE TA", "online ta ", "", "  ", np.nan, "null"], dtype=object)
    assert pre.to_category(values, "unknown").tolist() == [
        "online ta", "online ta", "online ta", "unknown", "unknown", "unknown", "null"]


def test_country_is_upper_case_and_missing_becomes_unk():
    raw = pd.Series(["prt", " GBR", np.nan, ""], dtype=object)
    assert pre.to_category(raw, "UNK", upper=True).tolist() == ["PRT", "GBR", "UNK", "UNK"]


def test_arrival_weekday_matches_datetime_row_by_row(legacy):
    utils, _ = legacy
    year = pd.Series([2016.0, 2017.0, 2016.0, np.nan, 2015.0, 2016.0, 2100.0, 2000.0])
    month = pd.Series([2.0, 2.0, 6.0, 3.0, np.nan, 7.0, 12.0, 1.0])
    day = pd.Series([29.0, 29.0, 31.0, 1.0, 3.0, 14.9, 31.0, 1.0])
    vectorised = pre.arrival_weekday(year, month, day)
    rows = pd.DataFrame({"arrival_date_year": year, "arrival_month_num": month,
                         "arrival_date_day_of_month": day})
    one_by_one = rows.apply(utils.get_weekday, axis=1)
    assert vectorised.tolist()[:1] == [0.0]  # 29 Feb 2016 was a Monday
    pd.testing.assert_series_equal(vectorised, one_by_one, check_dtype=False, check_names=False)


def test_clean_nulls_impossible_values_and_fills_missing_counts():
    raw = pd.DataFrame({c: ["1"] * 3 for c in pre.REQUIRED_COLS})
    raw["lead_time"] = ["-3", "900", " 12 "]
    raw["adults"] = ["-1", "2", "x"]
    raw["children"] = ["", "NA", "1"]
    raw["is_repeated_guest"] = ["2", "1", "0"]
    raw["adr"] = ["5400", "-6.38", "99.5"]
    raw["arrival_date_month"] = [" july", "JULY", "Juli"]
    df = pre.clean(raw)
    assert df["lead_time"].isna().tolist() == [True, True, False]
    assert df["adults"].isna().tolist() == [True, False, True]
    assert df["children"].tolist() == [0, 0, 1]
    assert df["is_repeated_guest"].isna().tolist() == [True, False, False]
    assert df["adr"].tolist() == [pre.ADR_MAX, 0, 99.5]
    assert df["arrival_month_num"].tolist()[:2] == [7, 7] and np.isnan(df["arrival_month_num"].iloc[2])


def test_price_per_person_is_missing_when_nobody_stays():
    df = pd.DataFrame({"arrival_date_year": [2016.0, 2016.0], "arrival_month_num": [1.0, 1.0],
                       "arrival_date_day_of_month": [1.0, 2.0], "stays_in_weekend_nights": [1.0, 0.0],
                       "stays_in_week_nights": [2.0, 1.0], "adults": [0.0, 2.0],
                       "children": [0.0, 1.0], "babies": [0.0, 0.0], "adr": [80.0, 90.0]})
    out = pre.add_features(df)
    assert np.isnan(out["adr_per_person"].iloc[0]) and out["adr_per_person"].iloc[1] == 30.0
    assert out["total_nights"].tolist() == [3.0, 1.0]
    assert out["is_family"].tolist() == [0, 1]


def test_preprocess_equals_the_legacy_clean_and_features_on_dirty_rows(legacy, tmp_path):
    utils, make_data = legacy
    path = tmp_path / "bookings.csv"
    make_data.make_bookings(1500, seed=11).to_csv(path, index=False)
    expected = utils.add_features(utils.clean_data(pd.read_csv(path)))
    actual = pre.preprocess(pd.read_csv(path))
    assert list(actual.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, check_exact=True)


def hosts_config(folder: Path, current: str, hosts: list[str]) -> Path:
    path = folder / f"resourceconfig-{current}.json"
    path.write_text(json.dumps({"current_host": current, "hosts": hosts}))
    return path


def test_each_host_cleans_the_chunks_i_with_i_mod_n_equal_to_its_index(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bookings.csv").write_bytes((ROOT / "examples/data/bookings.csv").read_bytes())
    hosts = ["algo-1", "algo-2", "algo-3"]
    written = {}
    for host in hosts:
        written[host] = pre.run(tmp_path / "in", tmp_path / host, 400, hosts_config(tmp_path, host, hosts))
        schema = json.loads((tmp_path / host / "schema" / f"{host}.json").read_text())
        parts = sorted(p.relative_to(tmp_path / host / "parts").as_posix()
                       for p in (tmp_path / host / "parts").rglob("*.parquet"))
        assert schema["parts"] == parts and schema["rows"] == written[host]
    assert written == {"algo-1": 800, "algo-2": 800, "algo-3": 400}  # chunks 0,3 / 1,4 / 2
    assert json.loads((tmp_path / "algo-3" / "schema" / "algo-3.json").read_text())["parts"] == [
        "bookings.csv/part-000002.parquet"]
    every = pd.concat([pd.read_parquet(tmp_path / f"algo-{i % 3 + 1}" / "parts" / "bookings.csv" /
                                       f"part-{i:06d}.parquet") for i in range(5)], ignore_index=True)
    whole = pre.preprocess(pd.read_csv(tmp_path / "in" / "bookings.csv"))
    pd.testing.assert_frame_equal(every, whole, check_dtype=False, check_exact=True)


def test_a_host_without_chunks_writes_an_empty_schema_and_no_parts(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bookings.csv").write_bytes((ROOT / "examples/data/bookings.csv").read_bytes())
    hosts = ["algo-1", "algo-2"]
    assert pre.run(tmp_path / "in", tmp_path / "out", 2000, hosts_config(tmp_path, "algo-2", hosts)) == 0
    assert json.loads((tmp_path / "out" / "schema" / "algo-2.json").read_text()) == {
        "parts": [], "dtypes": {}, "rows": 0}
    assert not (tmp_path / "out" / "parts").exists()


def test_a_header_only_input_gives_one_empty_part(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "b.csv").write_text(",".join(pre.REQUIRED_COLS) + "\n")
    assert pre.run(tmp_path / "in", tmp_path / "out", 8) == 0
    part = pd.read_parquet(tmp_path / "out" / "parts" / "b.csv" / "part-000000.parquet")
    assert len(part) == 0 and "arrival_weekday" in part.columns


@pytest.mark.parametrize("rows", ["0", "12", "-8", "x"])
def test_chunk_rows_must_be_a_positive_multiple_of_8(rows):
    with pytest.raises(SystemExit):
        pre.parse_args(["--chunk-rows", rows])
    assert pre.parse_args(["--chunk-rows", "304"]).chunk_rows == 304


def test_a_resource_config_without_hosts_is_refused_by_name(tmp_path):
    (tmp_path / "rc.json").write_text('{"current_host": "algo-1"}')
    for step in STEPS:
        with pytest.raises(step.StepError, match="rc.json.*current_host.*hosts"):
            step.read_hosts(tmp_path / "rc.json")
    assert pre.read_hosts(tmp_path / "absent.json") == ("algo-1", ["algo-1"])


def test_parquet_parts_keep_every_value_and_dtype(legacy, tmp_path):
    _, make_data = legacy
    make_data.make_bookings(800, seed=5).to_csv(tmp_path / "raw.csv", index=False)
    features = pre.preprocess(pd.read_csv(tmp_path / "raw.csv"))
    features.loc[3, "hotel"] = 'odd, "quoted"\nname'
    features.loc[4, "adr"] = 1e-07
    features.loc[5, "adr"] = -0.0
    pre.write_parquet(features, tmp_path / "f.parquet")
    back = pd.read_parquet(tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(back, features, check_exact=True)
    assert str(back.loc[5, "adr"]) == "-0.0"


def test_a_mixed_raw_column_is_written_as_text(tmp_path):
    frame = pd.DataFrame({"note": pd.Series([1, "x", None], dtype=object), "n": [1, 2, 3]})
    pre.write_parquet(frame, tmp_path / "f.parquet")
    assert pd.read_parquet(tmp_path / "f.parquet")["note"].tolist()[:2] == ["1", "x"]


def test_required_columns_are_named_when_missing():
    with pytest.raises(pre.StepError, match="missing required column\\(s\\) adr, country"):
        pre.check_columns(pd.DataFrame(columns=[c for c in pre.REQUIRED_COLS if c not in ("adr", "country")]),
                          pre.REQUIRED_COLS, "bookings.csv")


# --- shared plumbing (each step carries its own copy; they must behave the same) ------------------

@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_defaults_are_the_sagemaker_processing_paths(step):
    args = step.parse_args([])
    assert args.input_dir == Path("/opt/ml/processing/input/data")
    assert args.output_dir == Path("/opt/ml/processing/output")
    assert args.failure_message_file is None


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_input_csvs_are_found_recursively_in_relative_path_order(step, tmp_path):
    for name in ["b.csv", "a.CSV", "sub/c.csv", ".hidden.csv", ".staging-x/d.csv", "notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    found = [p.relative_to(tmp_path).as_posix() for p in step.csv_files(tmp_path)]
    assert found == ["a.CSV", "b.csv", "sub/c.csv"]


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_no_csv_in_input_is_an_error_naming_the_folder(step, tmp_path):
    with pytest.raises(step.StepError, match=f"no CSV files in {tmp_path}"):
        step.csv_files(tmp_path)


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_staged_outputs_appear_only_on_commit(step, tmp_path):
    staged = step.StagedOutput(tmp_path / "out")
    staged.path("x/a.csv").write_text("a\n")
    assert [p.name for p in (tmp_path / "out").rglob("*.csv")] == ["a.csv"]  # only in staging
    assert not (tmp_path / "out" / "x" / "a.csv").exists()  # x/ holds only its hidden staging
    staged.commit()
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")) == [
        "x", "x/a.csv"]


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_discarded_outputs_leave_nothing(step, tmp_path):
    staged = step.StagedOutput(tmp_path / "out")
    staged.path("a.csv").write_text("a\n")
    staged.discard()
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_message_file_comes_from_argument_then_environment_then_default(step, monkeypatch, tmp_path):
    monkeypatch.delenv("SM_OUTPUT_MESSAGE", raising=False)
    assert step.message_file(None) == (Path("/opt/ml/output/message"), False)
    monkeypatch.setenv("SM_OUTPUT_MESSAGE", str(tmp_path / "env"))
    assert step.message_file(None) == (tmp_path / "env", True)
    assert step.message_file(str(tmp_path / "arg")) == (tmp_path / "arg", True)


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_failure_is_one_line_of_at_most_1_kb(step, tmp_path, capsys):
    target = tmp_path / "deep" / "message"
    step.report_failure("first\nsecond " + "x" * 2000, target, True)
    line = target.read_text()
    assert line.count("\n") == 1 and line.startswith(f"{step.STEP}: first second")
    assert len(line.rstrip("\n")) == 1024
    assert capsys.readouterr().err == line


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_default_message_file_is_not_created_outside_a_job(step, tmp_path, capsys):
    target = tmp_path / "opt" / "ml" / "output" / "message"
    step.report_failure("bad", target, False)
    assert not target.parent.exists()
    assert capsys.readouterr().err == f"{step.STEP}: bad\n"


# --- predict --------------------------------------------------------------------------------------

def test_model_defaults_to_the_file_next_to_predict_py():
    assert predict.parse_args([]).model == ROOT / "containers" / "inference" / "model.pkl"
    assert predict.DEFAULT_MODEL.parent == Path(predict.__file__).resolve().parent


def test_probability_is_appended_after_the_input_columns():
    model = predict.load_model(predict.DEFAULT_MODEL)
    raw = pd.read_csv(ROOT / "examples" / "data" / "bookings.csv", nrows=50)
    features = pre.preprocess(raw)
    scored = predict.add_probability(features, predict.predict_probability(features, model))
    assert list(scored.columns) == [*features.columns, "cancel_probability"]
    assert scored["cancel_probability"].between(0, 1).all()
    pd.testing.assert_frame_equal(scored[features.columns], features)


def test_no_rows_give_no_probabilities():
    model = predict.load_model(predict.DEFAULT_MODEL)
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in predict.model_features(model)})
    assert predict.predict_probability(empty, model).shape == (0,)


def test_appending_a_column_keeps_the_input_bytes_and_reads_back_exactly(tmp_path):
    frame = pd.DataFrame({"id": [1, 2, 3], "segment": ["a,b", 'say "hi"', "null"], "x": [0.5, np.nan, 98.0]})
    frame.to_csv(tmp_path / "in.csv", index=False)
    values = np.array([0.1 + 0.2, 1 / 3, 1e-07])
    assert predict.append_column(tmp_path / "in.csv", tmp_path / "out.csv", "p", values)
    original = (tmp_path / "in.csv").read_text().splitlines()
    appended = (tmp_path / "out.csv").read_text().splitlines()
    assert [line.rsplit(",", 1)[0] for line in appended] == original
    back = predict.read_step_csv(tmp_path / "out.csv")
    assert back["p"].tolist() == values.tolist()
    pd.testing.assert_frame_equal(back[frame.columns], predict.read_step_csv(tmp_path / "in.csv"))


def test_a_record_spanning_lines_or_an_existing_column_falls_back_to_pandas(tmp_path):
    pd.DataFrame({"id": [1, 2], "note": ["two\nlines", "x"]}).to_csv(tmp_path / "multi.csv", index=False)
    assert not predict.append_column(tmp_path / "multi.csv", tmp_path / "o1.csv", "p", np.array([0.1, 0.2]))
    pd.DataFrame({"id": [1], "p": [0.3]}).to_csv(tmp_path / "has.csv", index=False)
    assert not predict.append_column(tmp_path / "has.csv", tmp_path / "o2.csv", "p", np.array([0.1]))
    assert not (tmp_path / "o1.csv").exists() and not (tmp_path / "o2.csv").exists()


def test_reading_only_some_columns_checks_they_exist_first(tmp_path):
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(tmp_path / "f.csv", index=False)
    assert list(predict.read_step_csv(tmp_path / "f.csv", ["b"]).columns) == ["b"]
    with pytest.raises(predict.StepError, match="missing required column\\(s\\) c"):
        predict.read_step_csv(tmp_path / "f.csv", ["b", "c"])


def test_a_pickle_that_is_not_a_classifier_is_refused(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(predict.StepError, match="not a fitted scikit-learn classifier"):
        predict.load_model(path)


def test_step_csvs_keep_na_like_categories_and_exact_floats(tmp_path):
    frame = pd.DataFrame({"segment": ["null", "NA", "nan"], "x": [0.1 + 0.2, 1 / 3, np.nan]})
    frame.to_csv(tmp_path / "f.csv", index=False)
    back = predict.read_step_csv(tmp_path / "f.csv")
    assert back["segment"].tolist() == ["null", "NA", "nan"]
    assert back["x"].iloc[0] == 0.1 + 0.2 and back["x"].iloc[1] == 1 / 3 and np.isnan(back["x"].iloc[2])


# --- postprocessing -------------------------------------------------------------------------------

def test_risk_band_edges_belong_to_the_higher_band():
    p = pd.Series([0.0, 0.2999, 0.3, 0.5999, 0.6, 1.0])
    assert post.risk_bands(p).tolist() == ["low", "low", "medium", "medium", "high", "high"]
    assert post.risk_bands(pd.Series([0.05, 0.1, 0.2]), low=0.1, high=0.2).tolist() == ["low", "medium", "high"]
    bands = post.risk_bands(pd.Series([np.nan, 0.0], index=[7, 9]))
    assert bands.tolist() == ["high", "low"] and bands.dtype == object and list(bands.index) == [7, 9]


def scored_rows(probabilities, adr, nights, segments):
    n = len(probabilities)
    frame = pd.DataFrame({c: ["x"] * n for c in post.REQUIRED_COLS})
    frame["booking_id"] = range(1, n + 1)
    frame["cancel_probability"] = probabilities
    frame["adr"] = adr
    frame["total_nights"] = nights
    frame["market_segment"] = segments
    return frame


def test_overbooking_flag_starts_at_the_threshold():
    frame = scored_rows([0.49, 0.5, 0.51], [100.0] * 3, [1.0] * 3, ["a"] * 3)
    assert post.score_bookings(frame)["high_risk"].tolist() == [0, 1, 1]
    assert post.score_bookings(frame, threshold=0.51)["high_risk"].tolist() == [0, 0, 1]


def test_revenue_at_risk_is_rounded_to_cents_and_missing_without_a_price():
    frame = scored_rows([0.5, 0.333], [101.0, np.nan], [3.0, 2.0], ["a", "a"])
    out = post.score_bookings(frame)
    assert out["revenue_at_risk"].iloc[0] == 151.5 and np.isnan(out["revenue_at_risk"].iloc[1])
    assert list(out.columns) == post.OUTPUT_COLS


def test_segment_summary_counts_bookings_and_high_risk_share():
    frame = scored_rows([0.9, 0.1, 0.7, 0.2], [100.0] * 4, [1.0] * 4, ["b", "a", "b", "b"])
    summary = post.segment_summary(post.score_bookings(frame))
    assert summary.index.tolist() == ["a", "b"]
    assert summary.loc["b", "bookings"] == 3 and summary.loc["b", "high_risk_bookings"] == 2
    assert summary.loc["b", "high_risk_share"] == 0.6667
    assert summary.loc["b", "expected_cancellations"] == 1.8
    assert summary.loc["a", "revenue_at_risk"] == 10.0


def test_thresholds_out_of_order_are_refused():
    with pytest.raises(post.StepError, match="--low-risk"):
        post.check_thresholds(0.7, 0.6, 0.5)


# --- the result writer: pandas' to_csv bytes -----------------------------------------------------

def awkward_floats(rng: np.random.Generator, n: int) -> np.ndarray:
    """Floats that stress the text layout: every magnitude, whole numbers, the 1e-4 and 1e16
    switch points and their neighbours, signed zeros, subnormals, inf, NaN, rounded cents."""
    edges = np.array([0.0, -0.0, 1e-4, 9.999999999999999e-05, 1e16, 9999999999999998.0, 1e15,
                      5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, np.inf, -np.inf,
                      np.nan, 0.1, 0.30000000000000004, 1 / 3, 123456789.123, 2.5, -1.0, 100.0])
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        spread = rng.normal(size=n) * 10.0 ** rng.integers(-330, 309, n).astype(float)
        cents = np.round(rng.random(n) * 10.0 ** rng.integers(0, 18, n), 2)
        bits = rng.integers(0, 2**63, n, dtype=np.int64).view(np.float64)  # any bit pattern
        whole = rng.integers(-10**17, 10**17, n).astype(float)
        return np.concatenate([edges, spread, cents, bits, whole, np.nextafter(edges, np.inf)])


@pytest.mark.parametrize("seed", range(5))
def test_result_writer_gives_pandas_bytes_for_awkward_floats(seed, tmp_path):
    rng = np.random.default_rng(seed)
    values = awkward_floats(rng, 20_000)
    frame = pd.DataFrame({"x": values, "y": rng.permutation(values), "n": np.arange(len(values))})
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    post.write_result_csv(frame, tmp_path / "ours.csv", chunk_rows=7_001)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_result_writer_quotes_text_as_pandas_does(tmp_path):
    text = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "", None, "nan", " pad ", "NA"]
    frame = pd.DataFrame({"s": pd.Series(text, dtype=object), "i": range(len(text)),
                          "f": [0.5, None, 3.0, 1e-5, 1e16, -0.0, 2.0, 7.25, None, 1.0]})
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    post.write_result_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_result_writer_falls_back_to_pandas_for_other_dtypes(tmp_path):
    frame = pd.DataFrame({"b": [True, False], "m": pd.Series([1, "x"], dtype=object),
                          "a,b": [1.5, 2.0]})
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    post.write_result_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_result_writer_writes_a_header_only_file_for_no_rows(tmp_path):
    frame = pd.DataFrame({"a": pd.Series([], dtype=float), "s": pd.Series([], dtype=object)})
    post.write_result_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_text() == frame.to_csv(index=False)


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_each_output_folder_stages_inside_itself(step, tmp_path):
    """A ProcessingOutput's LocalPath can be a mount of its own (Docker, SageMaker): a file is
    staged inside its top-level folder, so publishing it is a rename within that mount."""
    staged = step.StagedOutput(tmp_path)
    for relative in ["results/predictions.csv", "partials/algo-1.json", "top.csv"]:
        target = staged.path(relative)
        folder = relative.split("/")[0] if "/" in relative else ""
        assert target.parent.parent == tmp_path / folder if folder else target.parent.parent == tmp_path
        target.write_text(relative)
    assert not (tmp_path / "results" / "predictions.csv").exists()  # nothing published yet
    staged.commit()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == \
        ["partials/algo-1.json", "results/predictions.csv", "top.csv"]


@pytest.mark.parametrize("step", STEPS, ids=lambda m: m.STEP)
def test_a_discarded_output_leaves_no_staging_behind(step, tmp_path):
    staged = step.StagedOutput(tmp_path)
    staged.path("results/predictions.csv").write_text("x")
    staged.path("partials/algo-1.json").write_text("{}")
    staged.discard()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
