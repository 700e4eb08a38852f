# A team on the platform: its permissions in Vault and its Keycloak group (idp_team), its namespace on
# each cluster, capped by a ResourceQuota with a LimitRange's container defaults (the catalog's
# team-namespace chart), and its group bound to a role in that namespace.
locals {
  group     = coalesce(var.group, "team-${var.name}")
  namespace = coalesce(var.namespace, var.name)
}

# The team's Vault policy and AppRole role (its own credentials and clusters only) and its group,
# which the accesses below bind; the group goes with the team, after the accesses.
resource "idp_team" "this" {
  name           = var.name
  clusters       = var.owned_clusters
  keycloak_group = local.group
  token_ttl      = var.token_ttl
}

# One release per namespace: the fixed name makes a second team that claims the namespace fail instead
# of adding a second quota, which Kubernetes would enforce together with the first.
resource "idp_app" "namespace" {
  for_each = toset(var.clusters)

  cluster   = each.key
  namespace = local.namespace
  name      = "team-namespace"
  chart     = { catalog = "team-namespace", version = var.chart_version }
  atomic    = true
  values = yamlencode({
    team = var.name
    quota = {
      requests = { cpu = var.quota.cpu.requests, memory = var.quota.memory.requests }
      limits   = { cpu = var.quota.cpu.limits, memory = var.quota.memory.limits }
      pods     = var.quota.pods
    }
  })
}

resource "idp_access" "this" {
  for_each = toset(var.clusters)

  cluster = each.key
  group   = idp_team.this.keycloak_group
  # The team creates the group before the accesses plan against it (false would look it up at plan,
  # before the first apply makes it); grants never delete a team's group, only their members leave it.
  manage_group = true
  # An empty list is left out: the grant then manages no members.
  members = length(var.members) > 0 ? var.members : null
  role    = var.role
  # The namespace from the release, so that it exists, with its quota, before the team is bound in it,
  # and the binding goes before the release on destroy.
  namespaces = [idp_app.namespace[each.key].namespace]
  expires_at = var.expires_at
}
