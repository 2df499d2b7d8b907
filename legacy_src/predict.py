# score the bookings in data/bookings.csv and write the reports to output/
import os
import pickle

from config import *
from utils import add_features, clean_data, load_data


def risk_band(p):
    if p < LOW_RISK:
        return "low"
    elif p < HIGH_RISK:
        return "medium"
    else:
        return "high"


df = load_data()
df = clean_data(df)
df = add_features(df)

with open(MODEL_PATH, "rb") as f:
    model = pickle.load(f)
df["cancel_probability"] = model.predict_proba(df[FEATURES_NUM + FEATURES_CAT])[:, 1]

df["risk_band"] = df["cancel_probability"].apply(risk_band)
df["high_risk"] = (df["cancel_probability"] >= THRESHOLD).astype(int)
df["revenue_at_risk"] = (df["adr"] * df["total_nights"] * df["cancel_probability"]).round(2)

os.makedirs(OUTPUT_DIR, exist_ok=True)
df[OUTPUT_COLS].to_csv(PREDICTIONS_FILE, index=False)

summary = df.groupby("market_segment").agg(
    bookings=("booking_id", "size"),
    expected_cancellations=("cancel_probability", "sum"),
    mean_probability=("cancel_probability", "mean"),
    high_risk_bookings=("high_risk", "sum"),
    revenue_at_risk=("revenue_at_risk", "sum"),
)
summary["high_risk_share"] = summary["high_risk_bookings"] / summary["bookings"]
summary = summary.round({"expected_cancellations": 2, "mean_probability": 4, "revenue_at_risk": 2,
                         "high_risk_share": 4})
summary.to_csv(SUMMARY_FILE)

print("scored", len(df), "bookings,", df["high_risk"].sum(), "high risk")
print(summary)
