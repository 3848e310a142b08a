"""A seeded generator of customer records with realistic duplicates and their truth.

Each true customer (entity) appears in one to four source systems (at most as many
as the systems asked for). Every copy after the first is damaged the way real systems
damage data: typos, swapped first and last names, nicknames, missing values, other phone and e-mail formats, a new
address after a move. The `entity_id` column records the truth for evaluation.
The same seed always gives the same records.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pandas as pd

from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.nicknames import nicknames_of

SOURCE_SYSTEMS: tuple[str, ...] = ("crm", "ecommerce", "store_pos", "loyalty")
TRUTH_COLUMN = "entity_id"
# How many source systems hold a copy of one customer: 1, 2, 3, 4 (relative weights).
_COPY_WEIGHTS = (45, 30, 17, 8)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST_NAMES = _words(
    "abigail alexander andrew anthony benjamin charles christopher daniel david deborah edward elizabeth "
    "frederick gregory henry james jennifer john joseph joshua katherine lawrence margaret matthew "
    "michael nicholas patrick rebecca richard robert samuel stephen susan thomas timothy victoria "
    "william amelia olivia isla ava emily sophie grace mia poppy ella lily evie chloe freya ruby zoë "
    "florence noah oliver george harry leo arthur oscar theo jacob archie logan ethan lucas mason isaac "
    "hugo aisha fatima priya ananya mohammed omar yusuf arjun rohan sanjay chen wei mei hiroshi yuki "
    "sean niamh ciara siobhan aoife conor cian eoin josé maría lucía sofía mateo andrés zoé léa chloé "
    "hannah laura sarah rachel claire helen fiona karen nicola angela paul mark simon peter neil ian "
    "gareth rhys dylan megan bethan carys owen emyr tomasz piotr agnieszka katarzyna magdalena"
)

_SURNAME_STEMS = _words(
    "ash black brad brook cald clay cole crom dal dun el fair gar green hal hart hay holt kings lang mar "
    "mil north ox pen rad red rush shel stan stock sut thorn wal wes whit win wood york bram chad dray "
    "fen glen hol"
)
_SURNAME_ENDINGS = _words("by den ford ham hill ley man more ridge ton wick well worth field shaw wood combe")
_SURNAMES = _words(
    "smith jones taylor brown williams wilson johnson davies robinson wright thompson evans walker white "
    "roberts green hall thomas clarke jackson wood harris edwards turner martin cooper hill ward hughes "
    "moore clark king harrison lewis baker lee allen morris khan scott watson davis parker james bennett "
    "young phillips richardson mitchell bailey carter cook singh shaw bell collins morgan kelly begum "
    "miller cox hussain marshall simpson price anderson adams wilkinson ali ahmed foster ellis murphy "
    "chapman mason gray richards webb griffiths hunt palmer campbell holmes mills rogers barnes knight "
    "matthews barker powell stevens kaur fisher butler dixon russell harvey pearson graham müller "
    "o'brien o'neill mcdonald mckenzie ní-bhriain gonzález garcía fernández lópez dubois lefèvre "
    "kowalski nowak wiśniewski novák andersson johansson nguyen tran wang zhang patel shah"
)
_SURNAMES += tuple(stem + ending for stem in _SURNAME_STEMS for ending in _SURNAME_ENDINGS)

_STREETS = _words(
    "high church station victoria park london mill school manor queen king green grange chapel north south west east springfield kingsway "
    "windsor york albert orchard meadow oak elm beech willow cedar ash birch maple rose"
)
_STREET_TYPES = ("Street", "Road", "Lane", "Avenue", "Close", "Drive", "Crescent", "Place", "Way", "Gardens")

# (city, postcode area, country): a few Irish and French customers exercise other phone prefixes.
_CITIES: tuple[tuple[str, str, str], ...] = (
    ("London", "SW", "GB"),
    ("London", "N", "GB"),
    ("London", "E", "GB"),
    ("Manchester", "M", "GB"),
    ("Birmingham", "B", "GB"),
    ("Leeds", "LS", "GB"),
    ("Glasgow", "G", "GB"),
    ("Edinburgh", "EH", "GB"),
    ("Liverpool", "L", "GB"),
    ("Bristol", "BS", "GB"),
    ("Sheffield", "S", "GB"),
    ("Cardiff", "CF", "GB"),
    ("Newcastle upon Tyne", "NE", "GB"),
    ("Nottingham", "NG", "GB"),
    ("Leicester", "LE", "GB"),
    ("Brighton", "BN", "GB"),
    ("Oxford", "OX", "GB"),
    ("Cambridge", "CB", "GB"),
    ("York", "YO", "GB"),
    ("Belfast", "BT", "GB"),
    ("Dublin", "D", "IE"),
    ("Cork", "T12", "IE"),
    ("Paris", "75", "FR"),
    ("Lyon", "69", "FR"),
)
_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk", "icloud.com", "btinternet.com")
_MOBILE_PREFIX = {"GB": "07", "IE": "08", "FR": "06"}
_CALLING_CODE = {"GB": "44", "IE": "353", "FR": "33"}


@dataclass(frozen=True, slots=True)
class Entity:
    """A true customer, as the perfect record would describe them."""

    entity_id: str
    first_name: str
    last_name: str
    email: str
    mobile: str  # national significant number, without trunk prefix
    address_line: str
    city: str
    postcode: str
    country: str
    date_of_birth: date


@dataclass(frozen=True, slots=True)
class DamageRates:
    """How often each kind of damage hits a copy of a customer in another source system."""

    typo: float = 0.15
    swap_names: float = 0.04
    nickname: float = 0.25
    missing: float = 0.12
    moved: float = 0.10
    reformat: float = 0.6


def _title(name: str) -> str:
    # `o'brien` -> `O'brien` is what tills print; only hyphenated parts are capitalised apart.
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _postcode(rng: random.Random, area: str, country: str) -> str:
    if country == "FR":
        return area + f"{rng.randrange(1, 20):03d}"
    if country == "IE":
        return f"{area}{rng.randrange(1, 24):02d} " + "".join(rng.choices("ACDEFHKNPRTVWXY", k=4))
    return f"{area}{rng.randrange(1, 30)} {rng.randrange(1, 10)}{''.join(rng.choices('ABDEFGHJLNPQRSTUWXYZ', k=2))}"


def _address(rng: random.Random, country: str | None = None) -> tuple[str, str, str, str]:
    city, area, country = rng.choice([place for place in _CITIES if country in {None, place[2]}])
    street = f"{rng.randrange(1, 250)} {_title(rng.choice(_STREETS))} {rng.choice(_STREET_TYPES)}"
    return street, city, _postcode(rng, area, country), country


def _entity(rng: random.Random, number: int) -> Entity:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_SURNAMES)
    address_line, city, postcode, country = _address(rng)
    handle = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}{rng.randrange(1, 99)}"))
    ascii_handle = handle.encode("ascii", "ignore").decode().replace("'", "")
    return Entity(
        entity_id=f"E{number:07d}",
        first_name=_title(first),
        last_name=_title(last),
        email=f"{ascii_handle}{rng.randrange(1, 1000)}@{rng.choice(_MAIL_DOMAINS)}",
        mobile=f"7{rng.randrange(100, 999)}{rng.randrange(100000, 999999)}",
        address_line=address_line,
        city=city,
        postcode=postcode,
        country=country,
        date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65)),
    )


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    position = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:  # substitution
        return text[:position] + rng.choice(string.ascii_lowercase) + text[position + 1 :]
    if kind == 1:  # deletion
        return text[:position] + text[position + 1 :]
    if kind == 2:  # insertion
        return text[:position] + rng.choice(string.ascii_lowercase) + text[position:]
    return text[: position - 1] + text[position] + text[position - 1] + text[position + 1 :]  # transposition


def _phone(rng: random.Random, entity: Entity, reformat: bool) -> str:
    national = _MOBILE_PREFIX[entity.country][0] + entity.mobile
    code = _CALLING_CODE[entity.country]
    if not reformat:
        return f"+{code}{entity.mobile}"
    return rng.choice(
        (
            f"{national[:5]} {national[5:]}",
            f"+{code} {entity.mobile[:4]} {entity.mobile[4:]}",
            f"00{code}{entity.mobile}",
            f"({national[:5]}) {national[5:8]} {national[8:]}",
            national,
        )
    )


def _email(rng: random.Random, entity: Entity, reformat: bool) -> str:
    if not reformat:
        return entity.email
    return rng.choice((entity.email.upper(), f" {entity.email} ", entity.email.capitalize()))


def _damaged(rng: random.Random, entity: Entity, rates: DamageRates) -> Entity:
    first, last = entity.first_name, entity.last_name
    nicknames = nicknames_of(first.lower())
    if nicknames and rng.random() < rates.nickname:
        first = _title(rng.choice(nicknames))
    if rng.random() < rates.typo:
        first = _typo(rng, first)
    if rng.random() < rates.typo:
        last = _typo(rng, last)
    if rng.random() < rates.swap_names:
        first, last = last, first
    damaged = replace(entity, first_name=first, last_name=last)
    if rng.random() < rates.moved:
        # A move stays within the customer's country: the phone prefix must still fit.
        address_line, city, postcode, _country = _address(rng, entity.country)
        damaged = replace(damaged, address_line=address_line, city=city, postcode=postcode)
    elif rng.random() < rates.typo:
        damaged = replace(damaged, address_line=_typo(rng, damaged.address_line))
    return damaged


def _row(
    rng: random.Random, entity: Entity, system: str, source_id: str, *, rates: DamageRates, first_copy: bool
) -> dict[str, str | None]:
    copy = entity if first_copy else _damaged(rng, entity, rates)
    reformat = rng.random() < rates.reformat
    updated = datetime(2020, 1, 1) + timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 6))
    row: dict[str, str | None] = {
        "source_system": system,
        "source_id": source_id,
        "first_name": copy.first_name.upper() if system == "store_pos" else copy.first_name,
        "last_name": copy.last_name.upper() if system == "store_pos" else copy.last_name,
        "email": _email(rng, copy, reformat),
        "phone": _phone(rng, copy, reformat),
        "address_line": copy.address_line,
        "city": copy.city,
        "postcode": copy.postcode.lower() if reformat else copy.postcode,
        "country": copy.country,
        "date_of_birth": copy.date_of_birth.isoformat(),
        "updated_at": updated.isoformat() + "Z",
    }
    if not first_copy:
        for column in ("email", "phone", "date_of_birth", "address_line", "postcode"):
            if rng.random() < rates.missing:
                row[column] = None
    # Tills rarely ask for an e-mail; web shops rarely ask for a birth date.
    if system == "store_pos" and rng.random() < 0.5:
        row["email"] = None
    if system == "ecommerce" and rng.random() < 0.5:
        row["date_of_birth"] = None
    return row


def check_systems(systems: tuple[str, ...]) -> tuple[str, ...]:
    """`systems` if it names one or more known source systems, each once; else a ValueError naming the culprit."""
    if not systems:
        raise ValueError(f"name at least one source system of {', '.join(SOURCE_SYSTEMS)}")
    unknown = [system for system in systems if system not in SOURCE_SYSTEMS]
    if unknown:
        raise ValueError(f"unknown source system {unknown[0]!r}; known: {', '.join(SOURCE_SYSTEMS)}")
    repeated = [system for position, system in enumerate(systems) if system in systems[:position]]
    if repeated:
        raise ValueError(f"source system {repeated[0]!r} is named twice")
    return systems


def generate_customers(
    records: int,
    seed: int = 7,
    rates: DamageRates | None = None,
    systems: tuple[str, ...] = SOURCE_SYSTEMS,
) -> pd.DataFrame:
    """`records` customer rows in the customer schema plus `entity_id`, the truth.

    Each entity has copies in 1 to `len(systems)` of the source systems `systems` (a
    subset of `SOURCE_SYSTEMS`), each copy in a different one. With all four systems the
    copies per entity follow 1: 45 %, 2: 30 %, 3: 17 %, 4: 8 %, so about 53 % of the records
    have a duplicate; fewer systems drop the higher counts and rescale the rest.
    """
    if records < 1:
        raise ValueError("records must be at least 1")
    systems = check_systems(tuple(systems))
    copy_counts = tuple(range(1, len(systems) + 1))
    copy_weights = _COPY_WEIGHTS[: len(systems)]
    rng = random.Random(seed)  # noqa: S311 - test data, reproducibility is the point
    rates = rates or DamageRates()
    rows: list[dict[str, str | None]] = []
    next_id = dict.fromkeys(systems, 100000)
    number = 0
    while len(rows) < records:
        number += 1
        entity = _entity(rng, number)
        copies = rng.choices(copy_counts, weights=copy_weights)[0]
        for position, system in enumerate(rng.sample(systems, k=copies)):
            if len(rows) == records:
                break
            next_id[system] += rng.randrange(1, 7)
            row = _row(
                rng, entity, system, f"{system[:2].upper()}{next_id[system]}", rates=rates, first_copy=position == 0
            )
            row[TRUTH_COLUMN] = entity.entity_id
            rows.append(row)
    frame = pd.DataFrame(rows, columns=[*SOURCE_COLUMNS, TRUTH_COLUMN])
    # Shuffle so duplicates are not adjacent (a sorted-neighbourhood shortcut would be cheating).
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
