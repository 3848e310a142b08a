"""What AWS Entity Resolution is told about the customer records, and what it writes back.

One definition serves the stack (the schema mapping, the rule-based option, the
workflow's output columns) and the publication job that reads the output, so
the two cannot disagree about a column name.

Schema mapping (AWS Entity Resolution user guide, "Creating a schema mapping"):
each input field gets an attribute type; fields that share a `match_key` are
compared as one key; the name and address sub-types are grouped, the only way the
service normalises them before matching. The service takes exactly one
`UNIQUE_ID` field: the raw records identify themselves with two columns
(`source_system`, `source_id`), so the pipeline first writes them with
`source_key` (`source_system:source_id`, the identifier the identity map
publishes) to the prepared table, and the workflow reads that table.

Output (user guide, "Match input data using a matching workflow" and the
glossary): each job writes under `<output S3 path>/<workflow name>/<job id>/`,
a `success/` folder of CSV files (header row) holding the output columns the
workflow lists plus `MatchID` (the match set a record belongs to) and, for ML
matching, `ConfidenceLevel` (the confidence of that match set), for rules
matching `MatchRule` (the rule that matched); and an `error/` folder with the
records it could not process.
"""

from __future__ import annotations

from dataclasses import dataclass

from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.label_file import PRIMARY_KEY

UNIQUE_ID_FIELD = PRIMARY_KEY  # `source_key`: source_system:source_id
MATCH_ID = "MatchID"
CONFIDENCE_LEVEL = "ConfidenceLevel"
MATCH_RULE = "MatchRule"
SUCCESS_FOLDER = "success"
ERROR_FOLDER = "error"


@dataclass(frozen=True, slots=True)
class MappedField:
    """One input field of the schema mapping (the service's SchemaInputAttribute)."""

    field_name: str
    type: str
    match_key: str | None = None
    group_name: str | None = None


# Match keys: a grouped name or address is one key; source system, source id and the update time are
# carried through to the output (the publication needs them) but never compared.
NAME_KEY = "name"
ADDRESS_KEY = "address"
MAPPED_FIELDS: tuple[MappedField, ...] = (
    MappedField(UNIQUE_ID_FIELD, "UNIQUE_ID"),
    MappedField("source_system", "STRING"),
    MappedField("source_id", "STRING"),
    MappedField("first_name", "NAME_FIRST", NAME_KEY, "full_name"),
    MappedField("last_name", "NAME_LAST", NAME_KEY, "full_name"),
    MappedField("email", "EMAIL_ADDRESS", "email"),
    MappedField("phone", "PHONE_NUMBER", "phone"),
    MappedField("address_line", "ADDRESS_STREET1", ADDRESS_KEY, "address"),
    MappedField("city", "ADDRESS_CITY", ADDRESS_KEY, "address"),
    MappedField("postcode", "ADDRESS_POSTALCODE", ADDRESS_KEY, "address"),
    MappedField("country", "ADDRESS_COUNTRY", ADDRESS_KEY, "address"),
    MappedField("date_of_birth", "DATE", "date_of_birth"),
    MappedField("updated_at", "STRING"),
)

# Every input column comes back in the output, in clear and as captured (no hashing, no normalisation):
# survivorship and the identity map work on the records exactly as the sources sent them.
OUTPUT_COLUMNS: tuple[str, ...] = (UNIQUE_ID_FIELD, *SOURCE_COLUMNS)

# The rule-based option runs the deterministic rules the Splink model estimates its prior with
# (glue_jobs.matching_model.deterministic_rules), each Splink column replaced by its match key. The service
# compares a grouped name as one key, so "same e-mail and last name" becomes "same e-mail and name".
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("same-name-and-birth-date", (NAME_KEY, "date_of_birth")),
    ("same-email-and-name", ("email", NAME_KEY)),
)


def match_key_of(column: str) -> str:
    """The match key a source column is compared under (KeyError for a column that is not compared)."""
    keys = {field.field_name: field.match_key for field in MAPPED_FIELDS if field.match_key}
    return keys[column]


def job_output(output_path: str, workflow_name: str, job_id: str) -> str:
    """The folder of one job's matched records: `<output path>/<workflow>/<job id>/success/`."""
    return f"{output_path.rstrip('/')}/{workflow_name}/{job_id}/{SUCCESS_FOLDER}/"
