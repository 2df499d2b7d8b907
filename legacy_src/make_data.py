"""Make a fake but realistic hotel bookings file (like the Antonio et al. hotel booking demand data).

    python make_data.py                      # 50000 rows into data/bookings.csv
    python make_data.py --rows 2000 --seed 7 --out ../examples/data/bookings.csv

The file is dirty on purpose, the way the export from the booking system is: numbers padded with
spaces, text in number columns, empty cells, NULL countries and categories in random case.
"""
import argparse
import os

import numpy as np
import pandas as pd

from config import DATA_PATH, N_ROWS, SEED

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
MONTH_WEIGHTS = [5, 6, 8, 9, 10, 10, 11, 12, 9, 9, 6, 5]
DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
COUNTRIES = ["PRT", "GBR", "FRA", "ESP", "DEU", "ITA", "IRL", "BEL", "BRA", "NLD", "USA", "CHE",
             "CN", "AUT", "SWE", "CHN", "POL", "ISR", "RUS", "NOR"]
COUNTRY_WEIGHTS = [40, 10, 9, 7, 6, 3, 3, 2, 2, 2, 2, 1.5, 1.2, 1.1, 1, 1, 1, 0.6, 0.6, 0.5]
SEGMENTS = ["Online TA", "Offline TA/TO", "Groups", "Direct", "Corporate", "Complementary", "Aviation"]
SEGMENT_WEIGHTS = [47, 20, 17, 10.5, 4.4, 0.6, 0.5]
CHANNEL_OF_SEGMENT = {"Online TA": "TA/TO", "Offline TA/TO": "TA/TO", "Groups": "TA/TO",
                      "Direct": "Direct", "Corporate": "Corporate", "Complementary": "Direct",
                      "Aviation": "Corporate"}
JUNK = ["unknown", "n/a", "?", "-", "none", "TBD", "#VALUE!"]
NA_LIKE = ["NULL", "NA", " null ", "N/A ", "nan", " "]


def pick(rng, values, weights, n):
    p = np.asarray(weights, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p / p.sum())]


def make_bookings(n, seed):
    rng = np.random.default_rng(seed)
    hotel = pick(rng, ["City Hotel", "Resort Hotel"], [66, 34], n)
    month = rng.choice(12, size=n, p=np.array(MONTH_WEIGHTS) / sum(MONTH_WEIGHTS))
    year = rng.choice([2015, 2016, 2017], size=n, p=[0.2, 0.47, 0.33])
    leap = (year % 4 == 0) & (month == 1)
    day = 1 + (rng.random(n) * (np.array(DAYS_IN_MONTH)[month] + leap)).astype(int)
    segment = pick(rng, SEGMENTS, SEGMENT_WEIGHTS, n)
    channel = pd.Series(segment).map(CHANNEL_OF_SEGMENT).to_numpy(dtype=object, copy=True)
    gds = rng.random(n) < 0.002
    channel[gds] = "GDS"
    deposit = pick(rng, ["No Deposit", "Non Refund", "Refundable"], [87, 12, 1], n)
    customer = pick(rng, ["Transient", "Transient-Party", "Contract", "Group"], [75, 21, 3.5, 0.5], n)
    lead_time = np.minimum(rng.gamma(1.1, 95, n).astype(int), 737)
    lead_time[deposit == "Non Refund"] += rng.integers(30, 200, (deposit == "Non Refund").sum())
    weekend = np.minimum(rng.poisson(0.9, n), 19)
    week = np.minimum(rng.poisson(2.5, n), 50)
    adults = pick(rng, [0, 1, 2, 3, 4], [0.3, 18, 72, 8, 1.7], n).astype(int)
    children = pick(rng, [0, 1, 2, 3], [92, 4.5, 3.3, 0.2], n).astype(int)
    babies = pick(rng, [0, 1, 2], [99.2, 0.75, 0.05], n).astype(int)
    repeated = (rng.random(n) < 0.032).astype(int)
    prev_cancel = pick(rng, [0, 1, 2, 3, 11, 26], [94.5, 5, 0.2, 0.1, 0.1, 0.1], n).astype(int)
    requests = np.minimum(rng.poisson(0.57, n), 5)
    season = 1 + 0.35 * np.sin((month - 3) / 12 * 2 * np.pi)
    base = np.where(hotel == "Resort Hotel", 85.0, 105.0)
    adr = np.round(base * season * rng.lognormal(0, 0.3, n) * (0.6 + 0.2 * adults.clip(1, 4)), 2)
    adr[rng.random(n) < 0.015] = 0.0  # complementary rooms
    logit = (-1.3 + 0.004 * lead_time + 2.6 * (deposit == "Non Refund") + 0.9 * (prev_cancel > 0)
             - 0.55 * requests - 1.0 * repeated + 0.5 * (segment == "Online TA")
             + 0.4 * (segment == "Groups") - 0.7 * (segment == "Direct") + 0.003 * (adr - 100)
             - 0.3 * (hotel == "Resort Hotel") + 0.3 * (customer == "Transient"))
    country = pick(rng, COUNTRIES, COUNTRY_WEIGHTS, n)
    logit = logit + 0.6 * (country == "PRT")
    canceled = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    meal = pick(rng, ["BB", "HB", "SC", "FB", "Undefined"], [77, 12, 9, 0.7, 1.3], n)

    df = pd.DataFrame({
        "booking_id": np.arange(100001, 100001 + n),
        "hotel": hotel, "lead_time": lead_time, "arrival_date_year": year,
        "arrival_date_month": np.array(MONTH_NAMES, dtype=object)[month],
        "arrival_date_day_of_month": day, "stays_in_weekend_nights": weekend,
        "stays_in_week_nights": week, "adults": adults, "children": children, "babies": babies,
        "meal": meal, "country": country, "market_segment": segment,
        "distribution_channel": channel, "is_repeated_guest": repeated,
        "previous_cancellations": prev_cancel, "deposit_type": deposit,
        "customer_type": customer, "adr": adr, "total_of_special_requests": requests,
        "is_canceled": canceled,
    })
    return make_dirty(df, rng)


def padded(rng, values):
    left = pick(rng, [" ", "  ", ""], [1, 1, 1], len(values)).astype(str)
    right = pick(rng, [" ", "", "   "], [1, 1, 1], len(values)).astype(str)
    return np.char.add(np.char.add(left, values.astype(str)), right)


def case_mess(values, r, lower, upper, pad):
    """lower-case a share of the values, upper-case another, pad another with a space"""
    cut1, cut2, cut3 = lower, lower + upper, lower + upper + pad
    values[r < cut1] = np.char.lower(values[r < cut1].astype(str))
    values[(r >= cut1) & (r < cut2)] = np.char.upper(values[(r >= cut1) & (r < cut2)].astype(str))
    values[(r >= cut2) & (r < cut3)] = np.char.add(" ", values[(r >= cut2) & (r < cut3)].astype(str))
    return cut3


def make_dirty(df, rng):
    """Break the file the way the booking system export breaks it."""
    n = len(df)
    cols = {c: df[c].astype(str).to_numpy(dtype=object, copy=True) for c in df.columns}
    numeric = ["lead_time", "arrival_date_year", "arrival_date_day_of_month",
               "stays_in_weekend_nights", "stays_in_week_nights", "adults", "children", "babies",
               "previous_cancellations", "adr", "total_of_special_requests"]
    for col in numeric:
        values = cols[col]
        pad = rng.random(n) < 0.02
        values[pad] = padded(rng, values[pad])
        junk = rng.random(n) < 0.004
        values[junk] = pick(rng, JUNK, [1] * len(JUNK), junk.sum())
        values[rng.random(n) < 0.01] = ""
    cols["children"][rng.random(n) < 0.002] = "NA"       # the real export has NA children
    for col in ["hotel", "meal", "market_segment", "distribution_channel", "deposit_type",
                "customer_type", "arrival_date_month"]:
        r = rng.random(n)
        cut = case_mess(cols[col], r, 0.03, 0.02, 0.01)
        cols[col][(r >= cut) & (r < cut + 0.005)] = ""
        na_like = (r >= cut + 0.005) & (r < cut + 0.007)
        cols[col][na_like] = pick(rng, NA_LIKE, [1] * len(NA_LIKE), na_like.sum())
    country = cols["country"]
    r = rng.random(n)
    country[r < 0.004] = "NULL"
    country[(r >= 0.004) & (r < 0.01)] = ""
    na_like = (r >= 0.01) & (r < 0.012)
    country[na_like] = pick(rng, NA_LIKE, [1] * len(NA_LIKE), na_like.sum())
    rest = r >= 0.012
    sub = country[rest]
    case_mess(sub, r[rest] - 0.012, 0.02, 0.0, 0.005)
    country[rest] = sub
    cols["arrival_date_day_of_month"][rng.random(n) < 0.002] = "31"  # 31 June and friends
    r = rng.random(n)
    cols["adr"][r < 0.0005] = "5400"
    cols["adr"][(r >= 0.0005) & (r < 0.001)] = "-6.38"
    cols["adults"][rng.random(n) < 0.001] = "-1"
    return pd.DataFrame(cols)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="write a fake hotel bookings CSV")
    parser.add_argument("--rows", type=int, default=N_ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default=DATA_PATH)
    args = parser.parse_args()
    df = make_bookings(args.rows, args.seed)
    if os.path.dirname(args.out):
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
    df.to_csv(args.out, index=False)
    print("wrote", len(df), "bookings to", args.out)
