# cluster/group/scope: scope is "cluster" for a cluster-wide grant, else its namespaces joined by commas.
terraform import idp_access.payments_devs payments-dev/payments-developers/payments
terraform import idp_access.auditors payments-dev/auditors/cluster
