"""Write data/examples/fruit.{csv,parquet}: 400 synthetic fruits, the file-source example.

One row per fruit: an ID column, four numeric measurements, one string categorical column
(`colour`), a string target (`fruit`) and a few missing values, so the example exercises every
step of the CSV/Parquet source. Run `python data/examples/make_fruit.py`; the output is the
same on every run (seeded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROWS_PER_FRUIT = 100
# mean and standard deviation of weight (g), width (cm), height (cm), sweetness (0-10)
SHAPES = {
    "apple": [(180, 25), (7.5, 0.6), (7.2, 0.6), (6.0, 1.2)],
    "lemon": [(110, 15), (5.8, 0.5), (7.6, 0.6), (2.0, 1.0)],
    "orange": [(200, 30), (8.0, 0.7), (7.8, 0.6), (6.5, 1.0)],
    "pear": [(170, 25), (6.5, 0.6), (9.5, 0.8), (7.0, 1.0)],
}
COLOURS = {
    "apple": {"red": 0.5, "green": 0.4, "yellow": 0.1},
    "lemon": {"yellow": 0.9, "green": 0.1},
    "orange": {"orange": 0.95, "yellow": 0.05},
    "pear": {"green": 0.6, "yellow": 0.3, "brown": 0.1},
}
MISSING = {"weight_g": 0.04, "sweetness": 0.03, "colour": 0.02}  # share of rows left empty


def make_fruit(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for fruit, shape in SHAPES.items():
        mean, std = np.array(shape).T
        numbers = rng.normal(mean, std, size=(ROWS_PER_FRUIT, len(shape)))
        colours = COLOURS[fruit]
        part = pd.DataFrame(numbers, columns=["weight_g", "width_cm", "height_cm", "sweetness"])
        part["colour"] = rng.choice(list(colours), size=ROWS_PER_FRUIT, p=list(colours.values()))
        part["fruit"] = fruit
        parts.append(part)
    frame = pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame = frame.round({"weight_g": 1, "width_cm": 2, "height_cm": 2, "sweetness": 1})
    frame["sweetness"] = frame["sweetness"].clip(0, 10)
    for column, share in MISSING.items():
        frame.loc[rng.random(len(frame)) < share, column] = np.nan
    frame.insert(0, "id", [f"F{i:04d}" for i in range(1, len(frame) + 1)])
    return frame


if __name__ == "__main__":
    here = Path(__file__).parent
    fruit = make_fruit()
    fruit.to_csv(here / "fruit.csv", index=False)
    fruit.to_parquet(here / "fruit.parquet", index=False)
    print(f"wrote {len(fruit)} rows to {here / 'fruit.csv'} and {here / 'fruit.parquet'}")
