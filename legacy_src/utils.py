# cleaning + feature engineering, used by train.py and predict.py
import datetime

import numpy as np
import pandas as pd

from config import *


def load_data(path=DATA_PATH):
    df = pd.read_csv(path)
    print("loaded", len(df), "rows from", path)
    return df


def clean_data(df):
    df = df.copy()

    # numbers come padded with spaces or with text like "unknown" in them
    for col in NUMERIC_COLS:
        df[col] = pd.to_numeric(df[col].astype(str).str.strip(), errors="coerce")
        df[col] = df[col].replace([np.inf, -np.inf], np.nan)

    # counts can't be negative
    for col in COUNT_COLS:
        df.loc[df[col] < 0, col] = np.nan
    df["children"] = df["children"].fillna(0)
    df["babies"] = df["babies"].fillna(0)
    df["previous_cancellations"] = df["previous_cancellations"].fillna(0)
    df["total_of_special_requests"] = df["total_of_special_requests"].fillna(0)
    df.loc[~df["is_repeated_guest"].isin([0, 1]), "is_repeated_guest"] = np.nan

    df.loc[(df["lead_time"] < 0) | (df["lead_time"] > LEAD_TIME_MAX), "lead_time"] = np.nan
    df.loc[(df["arrival_date_year"] < MIN_YEAR) | (df["arrival_date_year"] > MAX_YEAR), "arrival_date_year"] = np.nan
    df.loc[(df["arrival_date_day_of_month"] < 1) | (df["arrival_date_day_of_month"] > 31), "arrival_date_day_of_month"] = np.nan
    df["adr"] = df["adr"].clip(0, ADR_MAX)

    # categories: "Online TA", "online ta", " ONLINE TA" are the same thing
    for col in CATEGORICAL_COLS:
        df[col] = df[col].fillna("unknown").astype(str).str.strip().str.lower()
        df.loc[df[col] == "", col] = "unknown"
    df["country"] = df["country"].fillna("UNK").astype(str).str.strip().str.upper()
    df.loc[df["country"] == "", "country"] = "UNK"

    df["arrival_month_num"] = df["arrival_date_month"].astype(str).str.strip().str.lower().map(MONTHS)
    return df


def get_weekday(row):
    try:
        d = datetime.date(int(row["arrival_date_year"]), int(row["arrival_month_num"]),
                          int(row["arrival_date_day_of_month"]))
        return d.weekday()
    except (ValueError, TypeError):
        return np.nan


def add_features(df):
    df["arrival_weekday"] = df.apply(get_weekday, axis=1)
    df["total_nights"] = df["stays_in_weekend_nights"] + df["stays_in_week_nights"]
    df["total_guests"] = df["adults"] + df["children"] + df["babies"]
    df["adr_per_person"] = df["adr"] / df["total_guests"].replace(0, np.nan)
    df["is_family"] = ((df["children"] + df["babies"]) > 0).astype(int)
    return df
