"""Synthetic clinical features shared by make_models.py and make_data.py.

Eight features per patient, in this column order (the models' input order):

    age            years                      18 .. 95
    bmi            kg/m^2                     16 .. 50
    systolic_bp    mmHg                       85 .. 220
    diastolic_bp   mmHg                       45 .. 130
    cholesterol    total, mg/dL              110 .. 360
    glucose        fasting, mg/dL             60 .. 300
    heart_rate     resting, beats/min         40 .. 140
    smoker         0 / 1

Everything here is synthetic; no real patient data is involved.
"""

import numpy as np

COLUMNS = [
    "age",
    "bmi",
    "systolic_bp",
    "diastolic_bp",
    "cholesterol",
    "glucose",
    "heart_rate",
    "smoker",
]

RISK_CLASSES = ["low", "medium", "high"]

# Per-population parameters. "general" is the training population of the models;
# the hospital sites differ from it (site b younger, site c older and sicker).
POPULATIONS = {
    "general": dict(age=(55.0, 15.0), bmi=(27.5, 5.0), smoker=0.22, chol_shift=0.0, gluc_shift=0.0),
    "hospital_a": dict(age=(52.0, 14.0), bmi=(27.0, 4.5), smoker=0.22, chol_shift=0.0, gluc_shift=0.0),
    "hospital_b": dict(age=(41.0, 12.0), bmi=(25.0, 4.0), smoker=0.15, chol_shift=-8.0, gluc_shift=-3.0),
    "hospital_c": dict(age=(67.0, 10.0), bmi=(28.5, 5.0), smoker=0.28, chol_shift=12.0, gluc_shift=8.0),
}


def sample(rng: np.random.Generator, n: int, population: str = "general") -> np.ndarray:
    """Returns an (n, 8) float64 matrix of plausible, correlated clinical features."""
    p = POPULATIONS[population]
    age = np.clip(rng.normal(p["age"][0], p["age"][1], n), 18.0, 95.0)
    bmi = np.clip(rng.normal(p["bmi"][0], p["bmi"][1], n), 16.0, 50.0)
    smoker = (rng.random(n) < p["smoker"]).astype(np.float64)
    systolic = np.clip(95.0 + 0.55 * age + 0.6 * (bmi - 27.0) + 3.0 * smoker + rng.normal(0.0, 12.0, n), 85.0, 220.0)
    diastolic = np.clip(15.0 + 0.45 * systolic + 0.3 * (bmi - 27.0) + rng.normal(0.0, 7.0, n), 45.0, 130.0)
    cholesterol = np.clip(
        185.0 + 0.45 * (age - 50.0) + 1.2 * (bmi - 27.0) + p["chol_shift"] + rng.normal(0.0, 32.0, n), 110.0, 360.0
    )
    glucose = np.clip(
        95.0 + 0.25 * (age - 50.0) + 1.1 * (bmi - 27.0) + p["gluc_shift"] + rng.gamma(2.0, 6.0, n) - 12.0
        + rng.normal(0.0, 8.0, n),
        60.0,
        300.0,
    )
    heart_rate = np.clip(72.0 + 4.0 * smoker + 0.3 * (bmi - 27.0) + rng.normal(0.0, 10.0, n), 40.0, 140.0)
    return np.stack([age, bmi, systolic, diastolic, cholesterol, glucose, heart_rate, smoker], axis=1)


def risk_logit(x: np.ndarray) -> np.ndarray:
    """The synthetic 'true' cardiovascular risk score (log-odds) the models learn."""
    age, bmi, sbp, dbp, chol, gluc, hr, smoker = (x[:, i] for i in range(8))
    return (
        -0.6
        + 0.065 * (age - 55.0)
        + 0.06 * (bmi - 27.0)
        + 0.028 * (sbp - 130.0)
        + 0.012 * (dbp - 80.0)
        + 0.011 * (chol - 200.0)
        + 0.014 * (gluc - 100.0)
        + 0.018 * (hr - 72.0)
        + 0.85 * smoker
    )
