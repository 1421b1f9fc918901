#!/usr/bin/python3
"""Writes the example sites' datasets to examples/data/.

    /usr/bin/python3 examples/make_data.py [--out DIR]

Needs only python3-numpy. Deterministic (fixed seed). Three hospitals, each a CSV file
with a header row of the 8 feature columns (heart_features.COLUMNS) and numeric cells:

  hospital_a.csv  240 rows  general population (mean age ~52)
  hospital_b.csv  180 rows  younger, fewer smokers, lower cholesterol (mean age ~41)
  hospital_c.csv  300 rows  older cardiology clinic, more smokers (mean age ~67)
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import heart_features  # noqa: E402

SEED = 7041
SITES = [("hospital_a", 240), ("hospital_b", 180), ("hospital_c", 300)]
# Decimal places per column (smoker is written as 0 or 1).
DECIMALS = {"age": 2, "bmi": 3, "systolic_bp": 2, "diastolic_bp": 2, "cholesterol": 2, "glucose": 2,
            "heart_rate": 2}


def format_row(values):
    cells = []
    for name, v in zip(heart_features.COLUMNS, values):
        if name == "smoker":
            cells.append(str(int(v)))
        else:
            cells.append(f"{v:.{DECIMALS[name]}f}")
    return ",".join(cells)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "data"), help="output folder (default examples/data)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    for i, (site, rows) in enumerate(SITES):
        rng = np.random.default_rng([SEED, i])
        x = heart_features.sample(rng, rows, site)
        path = os.path.join(args.out, site + ".csv")
        with open(path, "w", newline="\n") as f:
            f.write(",".join(heart_features.COLUMNS) + "\n")
            for row in x:
                f.write(format_row(row) + "\n")
        print(f"{path}: {rows} rows x {len(heart_features.COLUMNS)} columns, "
              f"mean age {x[:, 0].mean():.1f}, smokers {x[:, 7].mean():.0%}")


if __name__ == "__main__":
    main()
