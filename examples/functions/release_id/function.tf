# The import ID of an idp_app: cluster/namespace/name.
import {
  to = idp_app.api
  id = provider::idp::release_id("payments-dev", "payments", "api")
}
