# Any Helm release (made by the helm CLI, the helm provider or idp_app) is imported by cluster/namespace/name.
terraform import idp_app.api payments-dev/payments/api
