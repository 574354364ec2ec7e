"""Rust cases that cannot apply to Beam's Python API, each with its reason."""

_CODER = "Rust coders and Rust element types (no Python counterpart)"
_CLOSURE = "Rust closures and the portable graph's handling of them (Python callables are always portable)"
_DIRECT = "a check of the Rust direct runner's own behaviour"
_UNBOUNDED = "an unbounded Rust source that Beam's Python API (and beamline's) does not have"
_JSON = "JSON-lines IO, which Beam's Python API does not have"

NOT_APPLICABLE = {
    "unbounded_generator_emits_the_sequence": _UNBOUNDED + " (GenerateSequence)",
    "unbounded_fixed_window_counts_per_key": _UNBOUNDED + " (GenerateSequence)",
    "unbounded_out_of_order_data_all_counted": _UNBOUNDED + " (GenerateSequence)",
    "unbounded_late_data_within_allowed_lateness_is_kept": _UNBOUNDED + " (GenerateSequence)",
    "unbounded_flatten_with_bounded": _UNBOUNDED + " (GenerateSequence)",
    "unbounded_chained_windowed_aggregations": _UNBOUNDED + " (GenerateSequence)",
    "unbounded_side_input_per_window": _UNBOUNDED + " (GenerateSequence)",
    "direct_detects_a_mutating_dofn": _DIRECT + ": Rust interior mutability of an input element",
    "direct_round_trips_elements_through_coders": _DIRECT + ": a Rust serde type whose coder drops a field",
    "direct_shuffles_bundle_order": _DIRECT + ": its --direct-seed shuffling of bundles",
    "direct_reports_coder_errors": _DIRECT + " and Rust coders: a Rust type whose coder fails",
    "pcollection_of_another_pipeline_fails": "Beam Python defines no such check: p.apply(t, pcoll_of_another_pipeline) "
                                             "is accepted by Beam's DirectRunner, and Rust's apply_to has no Python form",
    "graph_names_the_primitives": "the Rust portable graph's beamline:transform URNs (graph internals; Beam "
                                  "Python's runner API graph has other URNs)",
    "runner_rejects_a_missing_capability": "edits a Rust portable graph's requirements and reruns it with --graph "
                                           "(graph internals)",
    "io_read_json_lines": _JSON,
    "io_read_json_lines_malformed_fails": _JSON,
    "io_json_lines_round_trip": _JSON,
    "min_max_nan_wins": "Beam Python has no Min/Max combiners; CombineGlobally(min) follows Python's min, whose "
                        "result with a NaN depends on the input order, so there is no defined answer to check",
    "closure_steps_are_not_portable": _CLOSURE,
    "create_wide_integers": "128-bit integers: Beam Python's int coder holds 64 bits (Create of 2**64 raises "
                            "OverflowError on Beam's DirectRunner, also with typing.Any or nested in a list)",
    "create_with_custom_coder": _CODER + ": a Rust Coder<u32> named in the portable graph",
}
