"""dbt-tests-adapter's seed, unit-testing and microbatch classes on PostgreSQL, through `dvt`:
a single-target project behaves under dvt exactly as under dbt."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt.tests.adapter.incremental.test_incremental_microbatch import BaseMicrobatch
from dbt.tests.adapter.simple_seed import seeds as seed_fixtures
from dbt.tests.adapter.simple_seed.test_seed import (
    BaseSimpleSeedWithBOM,
    TestBasicSeedTests,
    TestEmptySeed,
    TestSeedConfigFullRefreshOff,
    TestSeedConfigFullRefreshOn,
    TestSeedCustomSchema,
    TestSeedParsing,
    TestSeedSpecificFormats,
    TestSeedWithEmptyDelimiter,
    TestSeedWithUniqueDelimiter,
    TestSeedWithWrongDelimiter,
    TestSimpleSeedEnabledViaConfig,
)
from dbt.tests.adapter.simple_seed.test_seed_type_override import TestSimpleSeedColumnOverride
from dbt.tests.adapter.unit_testing.test_case_insensitivity import (
    TestPosgresUnitTestCaseInsensitivity,
)
from dbt.tests.adapter.unit_testing.test_invalid_input import TestPostgresUnitTestInvalidInput
from dbt.tests.adapter.unit_testing.test_quoted_reserved_word_column_names import (
    BaseUnitTestQuotedReservedWordColumnNames,
)
from dbt.tests.adapter.unit_testing.test_types import (
    BaseUnitTestingVarcharFixtureNoTruncation,
    TestPostgresUnitTestingTypes,
)
from dbt.tests.util import copy_file

pytestmark = [pytest.mark.postgres]

__all__ = [
    "TestBasicSeedTests",
    "TestEmptySeed",
    "TestPosgresUnitTestCaseInsensitivity",
    "TestPostgresUnitTestInvalidInput",
    "TestPostgresUnitTestingTypes",
    "TestSeedConfigFullRefreshOff",
    "TestSeedConfigFullRefreshOn",
    "TestSeedCustomSchema",
    "TestSeedParsing",
    "TestSeedSpecificFormats",
    "TestSeedWithEmptyDelimiter",
    "TestSeedWithUniqueDelimiter",
    "TestSeedWithWrongDelimiter",
    "TestSimpleSeedColumnOverride",
    "TestSimpleSeedEnabledViaConfig",
]


class TestMicrobatch(BaseMicrobatch):
    pass


class TestUnitTestQuotedReservedWordColumnNames(BaseUnitTestQuotedReservedWordColumnNames):
    pass


class TestUnitTestingVarcharFixtureNoTruncation(BaseUnitTestingVarcharFixtureNoTruncation):
    pass


class TestSimpleSeedWithBOM(BaseSimpleSeedWithBOM):
    """dbt's, with its BOM file copied from dbt's package (the class looks beside this file)."""

    @pytest.fixture(scope="class", autouse=True)
    def setUp(self, project):  # type: ignore[no-untyped-def]
        project.run_sql(seed_fixtures.seeds__expected_sql)
        copy_file(
            str(Path(seed_fixtures.__file__).parent),
            "seed_bom.csv",
            project.project_root / Path("seeds") / "seed_bom.csv",
            "",
        )
