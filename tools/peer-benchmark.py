#!/usr/bin/env python3
"""Score scikit-learn's HistGradientBoosting, RandomForest and LogisticRegression on exactly
the split `vigil-eval benchmark --save-split SPLIT` used, so the two compare row for row.

usage: peer-benchmark.py {nsl-kdd|unsw-nb15} SPLIT.json [ATTACK_CATEGORIES.csv]

The peers fit on train + validation rows (they have no temperature or threshold step to
spend validation on) and are scored on the test rows. Prints one JSON object per model.
Needs scikit-learn and pandas: py=$(../shared/tools/setup-peer-venv.sh)."""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

kind, split_path = sys.argv[1], sys.argv[2]
split = json.load(open(split_path))
if not split["test"]:
    sys.exit("the split has no test rows (the benchmark was run with --test); nothing to score")

if kind == "nsl-kdd":
    df = pd.read_csv(split["train_file"], header=None)
    mapping = pd.read_csv(sys.argv[3]).set_index("label")["category"].to_dict()
    y = df[41].map(mapping).values
    X = df.drop(columns=[41, 42])
    categorical = [1, 2, 3]
elif kind == "unsw-nb15":
    df = pd.read_csv(split["train_file"])
    y = df["attack_cat"].str.strip().values
    X = df.drop(columns=["id", "attack_cat", "label"])
    categorical = ["proto", "service", "state"]
else:
    sys.exit(f"unknown dataset kind {kind!r}")

fit_rows = np.array(split["train"] + split["validation"])
test_rows = np.array(split["test"])
encoder = OneHotEncoder(sparse_output=False, handle_unknown="ignore")
scaler = StandardScaler()
numeric = X.drop(columns=categorical).astype(float)


def encode(rows, fit):
    cats = X.loc[rows, categorical].astype(str)
    nums = numeric.loc[rows].values
    if fit:
        return np.hstack([encoder.fit_transform(cats), scaler.fit_transform(nums)])
    return np.hstack([encoder.transform(cats), scaler.transform(nums)])


X_fit, X_test = encode(fit_rows, True), encode(test_rows, False)
y_fit, y_test = y[fit_rows], y[test_rows]
models = {
    "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
    "RandomForest": RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=0),
    "LogisticRegression": LogisticRegression(max_iter=1000),
}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_fit, y_fit)
    seconds = time.perf_counter() - start
    predicted = model.predict(X_test)
    print(json.dumps({
        "model": name,
        "accuracy": round(accuracy_score(y_test, predicted), 4),
        "macro_f1": round(f1_score(y_test, predicted, average="macro"), 4),
        "fit_seconds": round(seconds, 1),
        "n_fit": len(fit_rows),
        "n_test": len(test_rows),
    }), flush=True)
