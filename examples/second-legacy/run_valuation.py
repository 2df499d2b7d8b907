# House valuation, the 2021 desktop version. Run from this folder:  python run_valuation.py
# Reads input/houses.json (sold houses have a price, listed ones do not), fits a ridge
# regression on the sold ones, values the listed ones, writes results/.
import json
import os

import numpy as np
from sklearn.linear_model import Ridge

from lib.features import FEATURES, feature_matrix

with open("input/houses.json") as f:
    houses = json.load(f)

sold = [h for h in houses if h.get("price") is not None]
listed = [h for h in houses if h.get("price") is None]

model = Ridge(alpha=1.0)
model.fit(feature_matrix(sold), np.log([h["price"] for h in sold]))

values = np.exp(model.predict(feature_matrix(listed)))
os.makedirs("results", exist_ok=True)
with open("results/valuations.json", "w") as f:
    json.dump([{"id": h["id"], "district": h["district"], "value": round(float(v), 2)}
               for h, v in zip(listed, values)], f, indent=1)

fitted = np.exp(model.predict(feature_matrix(sold)))
error = np.abs(fitted - np.array([h["price"] for h in sold])) / np.array([h["price"] for h in sold])
with open("results/model_report.csv", "w") as f:
    f.write("feature,coefficient\n")
    for name, coef in zip(FEATURES, model.coef_):
        f.write(f"{name},{coef:.6f}\n")
    f.write(f"mean_abs_pct_error,{error.mean():.6f}\n")
print(f"valued {len(listed)} houses from {len(sold)} sales")
