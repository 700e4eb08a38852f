# Add-on stacks (idp_addon_stack). The provider already refuses add-ons and versions its catalog
# lacks, so versions are not repeated here; what policy adds is that production pins them.
package main

import data.lib.idp

# An add-on without version follows the catalog's default, which moves when the provider is upgraded
# and the stack is next planned to change: production upgrades should be deliberate.
warn_unpinned_addon contains idp.result(rc, ["addons", key, "version"], msg) if {
	some rc in idp.changes
	rc.type == "idp_addon_stack"
	idp.production(rc)
	some key, addon in idp.object_after(rc, ["addons"])
	not idp.unknown(rc, ["addons", key, "version"])
	not is_string(object.get(addon, "version", null))
	msg := sprintf(
		"add-on %q in %s follows the catalog's default version, which changes with provider upgrades: pin version to one of the idp_addon_catalog data source's versions",
		[key, idp.environment_name(idp.environment(rc))],
	)
}

checked contains [rc, ["addons"]] if {
	some rc in idp.changes
	rc.type == "idp_addon_stack"
	idp.production(rc)
}

checked contains [rc, ["addons", key, "version"]] if {
	some rc in idp.changes
	rc.type == "idp_addon_stack"
	idp.production(rc)
	some key, _ in idp.object_after(rc, ["addons"])
}
