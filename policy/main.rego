# What every rule of the library shares: warnings about values only known at apply, and exceptions.
package main

import data.lib.idp

# A value a rule checks that is only known at apply cannot be checked at plan: the rules do not deny
# on it, and this warns that it went unchecked. Each rule file adds the paths it checks to checked, as
# [resource change, path].
warn_unknown contains idp.result(rc, path, msg) if {
	some entry in checked
	[rc, path] := entry
	idp.unknown_at(rc, path)
	msg := sprintf(
		"%s is only known at apply, so the platform's policies could not check it: make it known at plan (a literal or a variable) to have it checked",
		[concat(".", path)],
	)
}

# conftest exceptions: rules named deny_<name> or violation_<name> are skipped for <name> listed in
# any exception entry. The settings' disabled_rules switch rules off for every change.
exception contains rules if {
	rules := idp.settings.disabled_rules
	count(rules) > 0
}
