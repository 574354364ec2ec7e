"""Every case of the Rust conformance suite is ported here or listed as not applicable."""

from conftest import _ported_cases, rust_case_names
from not_applicable import NOT_APPLICABLE


def test_every_rust_case_is_ported_or_listed():
    names = rust_case_names()
    assert len(names) == len(set(names)) and len(names) >= 200, len(names)
    ported = _ported_cases()
    missing = [n for n in names if n not in ported and n not in NOT_APPLICABLE]
    assert not missing, "Rust cases neither ported nor listed in NOT_APPLICABLE: %s" % missing
    unknown = sorted((ported | set(NOT_APPLICABLE)) - set(names))
    assert not unknown, "ported or listed cases that the Rust suite does not have: %s" % unknown
    both = sorted(ported & set(NOT_APPLICABLE))
    assert not both, "both ported and listed as not applicable: %s" % both
