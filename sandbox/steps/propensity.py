"""Step 3, propensity: the lake's training table, the real preparation job, local training, the endpoint stood in.

The training table is what the offer history looks like in the raw lake: one row
per customer with the facts the eligibility service sends the model (read from
the live state the journeys just built, through `eligibility.attributes`), the
call `duration` (a leak the preparation job drops) and whether the customer took
the offer (`y`, drawn from the generator's hidden intent). It goes under the
preparation job's `--source_path` (from the template), `glue_jobs.propensity_prepare`
splits it exactly as on Glue, `propensity.trainer` trains and calibrates it as in script mode,
and the SageMaker runtime's InvokeEndpoint is answered in-process by the
serving functions (`propensity.inference`) over the saved model.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from botocore.response import StreamingBody

from eligibility.attributes import customer_facts, model_features
from glue_jobs.propensity_prepare import parse_options
from glue_jobs.propensity_prepare import run as prepare
from omni_domain.dynamodb_store import DynamoDBCustomerRepository
from propensity.data import read_csv
from propensity.inference import InvalidInput, input_fn, model_fn, output_fn, predict_fn
from propensity.trainer import train
from propensity.training import Hyperparameters, save
from sandbox.context import GoldenCustomer, RunContext
from sandbox.platform import StandInError

OFFERS_HANDLER = "connect_offers.handler.lambda_handler"
PREPARE_JOB = "PrepareTrainingData"
MAX_TRAINING_CUSTOMERS = 1500
HISTOGRAM_BINS = 10


@dataclass(frozen=True)
class PropensityResult:
    product: str
    training_rows: int
    validation_rows: int
    dropped: tuple[str, ...]
    auc: float
    precision_at_top_decile: float
    base_rate: float
    model_version: str
    score_histogram: list[int]  # customers per score decile, 0-0.1 ... 0.9-1
    source_path: str


def _product(context: RunContext) -> str:
    return context.platform.function_environment(OFFERS_HANDLER)["OFFER_CHECK_PRODUCT"]


def _job_arguments(context: RunContext) -> dict[str, str]:
    """The preparation job's arguments, resolved from its template (source, target, leaks, required columns)."""
    platform = context.platform
    job = platform.find(PREPARE_JOB, "AWS::Glue::Job")
    arguments = platform.resolver.resolve(dict(job.properties).get("DefaultArguments", {}), job.stack)
    return {name.removeprefix("--"): str(value) for name, value in arguments.items()}


def _training_table(
    context: RunContext, customers: list[GoldenCustomer], product: str, target: str, drop: tuple[str, ...]
) -> tuple[str, list[dict[str, Any]]]:
    platform = context.platform
    repository = DynamoDBCustomerRepository(
        platform.client("dynamodb"), customer_table=platform.table("customers"), identity_table=""
    )
    rows = []
    for customer in customers:
        view = repository.get(customer.golden_id).view()
        if view is None:
            continue
        features = model_features(customer_facts(view, now=context.now), product=product)
        took_offer = context.rng.random() < _offer_uptake(features, customer.intent)
        leaks = {
            name: str(round(context.rng.uniform(200, 900) if took_offer else context.rng.uniform(20, 300)))
            for name in drop
        }
        rows.append(
            {**{k: "" if v is None else str(v) for k, v in features.items()}, **leaks, target: str(int(took_offer))}
        )
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue(), rows


def _offer_uptake(features: dict[str, Any], intent: float) -> float:
    """How likely this customer took the retention offer: buyers and abandoners more, complainers less."""

    def number(name: str) -> float:
        value = features.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    chance = 0.06 + 0.22 * min(number("purchases"), 2) + 0.18 * (features.get("cart_status") == "abandoned")
    chance += 0.15 * (number("spend_30d") > 150) - 0.12 * min(number("complaints"), 2) + 0.25 * intent
    return min(0.95, max(0.02, chance))


def run(context: RunContext, population: list[GoldenCustomer]) -> PropensityResult:
    say = context.progress.step("propensity")
    platform = context.platform
    s3 = platform.client("s3")
    product = _product(context)
    arguments = _job_arguments(context)
    target = arguments["target"]
    sample = population[:MAX_TRAINING_CUSTOMERS]
    options = parse_options(
        {
            **arguments,
            "output_path": f"s3://{platform.bucket('curated-' + platform.account + '-' + platform.region)}/propensity/sandbox/",
        }
    )
    text, table = _training_table(context, sample, product, target, options.drop)
    bucket, _, prefix = options.source_path.removeprefix("s3://").partition("/")
    s3.put_object(Bucket=bucket, Key=f"{prefix}offers-history.csv", Body=text.encode())
    say(f"{len(table):,} customers' facts and offer outcomes written to {options.source_path}")
    counts = prepare(s3, options)
    say(f"preparation job split them {counts} (dropped {', '.join(options.drop) or 'nothing'})")

    out_bucket, _, out_prefix = options.output_path.removeprefix("s3://").partition("/")
    local = context.workdir / "propensity"
    datasets: dict[str, list[dict[str, str]]] = {}
    for name in ("train", "validation"):
        path = local / name / "data.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(s3.get_object(Bucket=out_bucket, Key=f"{out_prefix}{name}/data.csv")["Body"].read())
        datasets[name] = read_csv(path)
    validation = datasets["validation"]
    # As the training job does: early stopping on the validation rows, calibration, the drift baseline.
    trained = train(
        datasets["train"],
        target=target,
        hyperparameters=Hyperparameters(num_round=120, nthread=2),
        folds=3,
        validation=validation,
        early_stopping_rounds=20,
    )
    model = trained.model
    metrics = trained.metrics
    model_dir = local / "model"
    save(model, model_dir, metrics, feature_baseline=trained.baseline)
    served = model_fn(str(model_dir))
    say(f"trained on {len(datasets['train'])} rows: validation AUC {metrics['auc']:.3f}, model {served.version}")
    _stand_in_endpoint(context, served)

    scores = model.score([{k: v for k, v in row.items() if k != target} for row in table])
    histogram = np.histogram(scores, bins=HISTOGRAM_BINS, range=(0.0, 1.0))[0]
    return PropensityResult(
        product=product,
        training_rows=len(datasets["train"]),
        validation_rows=len(validation),
        dropped=options.drop,
        auc=float(metrics["auc"]),
        precision_at_top_decile=float(metrics["precision_at_top_decile"]),
        base_rate=float(metrics["base_rate"]),
        model_version=served.version,
        score_histogram=[int(count) for count in histogram],
        source_path=options.source_path,
    )


def _stand_in_endpoint(context: RunContext, served: Any) -> None:
    """InvokeEndpoint answered by the serving functions the SageMaker container runs (input, predict, output)."""

    def invoke_endpoint(request: Any) -> dict[str, Any]:
        headers = request["headers"]
        try:
            records = input_fn(request["body"], headers.get("Content-Type", "application/json"))
            body, content_type = output_fn(predict_fn(records, served), headers.get("Accept", "application/json"))
        except InvalidInput as error:  # the container answers 400, which the runtime reports as a ModelError
            raise StandInError("ModelError", str(error)) from None
        data = body.encode()
        return {
            "Body": StreamingBody(io.BytesIO(data), len(data)),
            "ContentType": content_type,
            "InvokedProductionVariant": "AllTraffic",
        }

    context.platform.stand_in("sagemaker-runtime", "InvokeEndpoint", invoke_endpoint)
