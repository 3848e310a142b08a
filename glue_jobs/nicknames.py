"""Nickname -> formal first name, so `Bill Smith` and `William Smith` compare as equal.

Deliberately short: an entry must be an unambiguous, common English diminutive,
because a wrong entry merges two different people's first names everywhere.
"""

from __future__ import annotations

_FORMAL_TO_NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abby", "abbie"),
    "alexander": ("alex", "sandy"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony",),
    "benjamin": ("ben", "benny"),
    "charles": ("charlie", "chuck"),
    "christopher": ("chris", "kit"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy"),
    "deborah": ("debbie", "deb"),
    "edward": ("ed", "eddie", "ted", "teddy"),
    "elizabeth": ("liz", "lizzie", "lizzy", "beth", "betty", "eliza"),
    "frederick": ("fred", "freddie"),
    "gregory": ("greg",),
    "henry": ("harry", "hank"),
    "james": ("jim", "jimmy", "jamie"),
    "jennifer": ("jen", "jenny"),
    "john": ("johnny", "jack"),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "katherine": ("kate", "katie", "kathy", "kath", "kitty"),
    "lawrence": ("larry",),
    "margaret": ("maggie", "meg", "peggy"),
    "matthew": ("matt",),
    "michael": ("mike", "mick", "mickey"),
    "nicholas": ("nick", "nicky"),
    "patrick": ("paddy",),
    "rebecca": ("becky", "becca"),
    "richard": ("rick", "ricky", "richie", "dick"),
    "robert": ("rob", "robbie", "bob", "bobby", "bert"),
    "samuel": ("sam", "sammy"),
    "stephen": ("steve", "stevie"),
    "susan": ("sue", "susie"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "tori"),
    "william": ("bill", "billy", "will", "willy", "liam"),
}

NICKNAMES: dict[str, str] = {
    nickname: formal for formal, nicknames in _FORMAL_TO_NICKNAMES.items() for nickname in nicknames
}


def formal_first_name(name: str) -> str:
    """The formal form of a normalised first name, or the name itself if it is not a known nickname."""
    return NICKNAMES.get(name, name)


def nicknames_of(formal: str) -> tuple[str, ...]:
    """The diminutives of a formal first name (used by the synthetic generator)."""
    return _FORMAL_TO_NICKNAMES.get(formal, ())
