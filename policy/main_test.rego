# Tests of what all rules share; denials and warnings are the builders of the other tests.
package main_test

import data.lib.idp_test.create
import data.lib.idp_test.plan
import data.lib.idp_test.with_unknown
import data.main

# denials and warnings are every deny_/violation_ and warn_ result of the library for the input.
denials := {[name, finding] |
	some name, findings in main
	regex.match(`^(deny|violation)(_|$)`, name)
	some finding in findings
}

warnings := {[name, finding] |
	some name, findings in main
	startswith(name, "warn")
	some finding in findings
}

test_unknown_values_warn_once_at_the_outermost_unknown if {
	rc := with_unknown(create("idp_access", {"cluster": "payments-prod"}), {"role": true})
	warnings == {["warn_unknown", {
		"msg": "idp_access.this: role is only known at apply, so the platform's policies could not check it: make it known at plan (a literal or a variable) to have it checked",
		"path": ["role"],
	}]} with input as plan([rc], {"team": "payments"})
	count(denials) == 0 with input as plan([rc], {"team": "payments"})
}

test_no_exceptions_by_default if {
	count(main.exception) == 0
}

test_disabled_rules_are_exceptions if {
	main.exception == {["pool_size", "instance_type"]} with data.idp_policy as {"disabled_rules": ["pool_size", "instance_type"]}
}

test_an_empty_plan_has_no_findings if {
	count(denials) == 0 with input as {"resource_changes": []}
	count(warnings) == 0 with input as {"resource_changes": []}
}
