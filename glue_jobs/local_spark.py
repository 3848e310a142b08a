"""A local SparkSession shaped like the Glue 5.0 job's: for tests, benchmarks and `omni mdm dedupe --engine spark`.

Glue 5.0 runs Spark 3.5.4 on Java 17 with Python 3.11; pyspark of that version runs
the same engine in local mode on this machine. The session loads the same Splink
similarity jar the stack uploads (`--extra-jars`), and its Python workers run this
interpreter, so they see the same pandas and the `glue_jobs` package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from pathlib import Path
from typing import Any

GLUE_SPARK_VERSION = "3.5.4"  # AWS Glue 5.0
# Splink's Jaro-Winkler and friends for Spark 3.x, shipped inside the splink package itself.
SIMILARITY_JAR = Path(str(files("splink"))) / "internals/files/spark_jars/scala-udf-similarity-0.1.2_spark3.x.jar"


class SparkUnavailableError(RuntimeError):
    """Local Spark cannot start on this machine; the message says what to install."""


def check_spark_runtime() -> None:
    """Fail early, with the fix, when pyspark of Glue's version or a Java runtime is missing."""
    try:
        installed = version("pyspark")
    except PackageNotFoundError:
        raise SparkUnavailableError(
            f"the Spark engine needs pyspark {GLUE_SPARK_VERSION} (Glue 5.0's Spark): pip install -e '.[spark]'"
        ) from None
    if installed != GLUE_SPARK_VERSION:
        raise SparkUnavailableError(f"pyspark {installed} is installed; Glue 5.0 runs Spark {GLUE_SPARK_VERSION}")
    java = shutil.which(
        "java", path=os.path.join(os.environ["JAVA_HOME"], "bin") if "JAVA_HOME" in os.environ else None
    )
    if java is None:
        raise SparkUnavailableError(
            "Spark needs a Java runtime (Glue 5.0 uses Java 17): apt-get install openjdk-17-jre-headless"
        )
    probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)  # noqa: S603 - a fixed probe
    if probe.returncode != 0:
        raise SparkUnavailableError(f"{java} -version failed: {probe.stderr.strip()}")


def local_session(
    *, cores: int = 2, shuffle_partitions: int = 2, driver_memory: str = "2g", app_name: str = "omni-mdm"
) -> Any:
    """A local SparkSession (or the running one) with the similarity jar and this interpreter for workers.

    Few shuffle partitions: local data is small, and Spark's default of 200 tasks per
    shuffle costs more than it computes here.
    """
    check_spark_runtime()
    # Workers must import pandas and glue_jobs from this environment, not the system Python.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession  # noqa: PLC0415 - an optional, heavy dependency

    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        # Local mode runs every task in the driver's JVM: its heap is all the memory Spark gets.
        .config("spark.driver.memory", driver_memory)
        .config("spark.jars", str(SIMILARITY_JAR))
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(cores))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # Splink's scoring expression is larger than the JVM's 64 KB method limit, so Spark logs a long
    # compile error and falls back to interpreting that stage (correct, only slower): keep the
    # steward's terminal for the run's own progress.
    jvm: Any = session.sparkContext._jvm  # py4j view of the JVM: set once the session runs
    jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator", jvm.org.apache.logging.log4j.Level.FATAL
    )
    return session
