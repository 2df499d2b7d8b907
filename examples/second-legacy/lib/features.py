import numpy as np

DISTRICTS = ["centre", "north", "riverside", "south"]
FEATURES = ["area_m2", "rooms", "age_years", "has_garden"] + [f"district_{d}" for d in DISTRICTS]


def feature_matrix(houses):
    rows = []
    for h in houses:
        area = float(h.get("area_m2") or 0) or 80.0  # missing areas: the median flat
        rows.append([area, h["rooms"], 2021 - h["built"], 1.0 if h.get("garden") else 0.0]
                    + [1.0 if h["district"] == d else 0.0 for d in DISTRICTS])
    return np.array(rows, dtype=float)
