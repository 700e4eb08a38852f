# Runs against a real platform: the provider's acceptance suite (TestAccManagementPlane) runs it on an
# empty management cluster of the sandbox (Crossplane core with its package manager), with
# TF_VAR_kubeconfig set to that cluster's kubeconfig and TF_VAR_package_mirror to the sandbox registry's
# mirror, which holds the platform's packages. The Go test then checks that the destroy left nothing.
variables {
  name = "module-management-plane"
}

run "rejects_unpinned_function" {
  command = plan
  variables {
    functions = { function-auto-ready = "xpkg.crossplane.io/crossplane-contrib/function-auto-ready" }
  }
  expect_failures = [var.functions]
}

run "install" {
  assert {
    condition     = idp_cluster.this.status == "Ready" && idp_cluster.this.kubernetes_version_actual != ""
    error_message = "the management cluster is not registered as Ready with the version its API server reports"
  }
  assert {
    condition     = endswith(output.kubeconfig_path, "/clusters/module-management-plane/kubeconfig")
    error_message = "the kubeconfig is not at clusters/<name>/kubeconfig in Vault"
  }
  assert {
    condition     = idp_app.platform.status == "deployed" && idp_app.platform.revision == 1
    error_message = "the platform-configuration release is not deployed at revision 1"
  }
  assert {
    condition = toset(output.objects) == toset([
      "CustomResourceDefinition/accessgrants.platform.idp.dev",
      "Configuration/idp-platform",
      "Function/function-addon-stack",
      "Function/function-auto-ready",
      "Function/function-patch-and-transform",
      "ImageConfig/platform-configuration-mirror-xpkg-crossplane-io",
      "ImageConfig/platform-configuration-mirror-xpkg-idp-dev",
    ])
    error_message = "the release does not install the Configuration, the three Functions, the AccessGrant definition and the mirror's ImageConfigs"
  }
}

# The same configuration again: the provider finds nothing to change, so the release keeps its revision.
run "reapply_changes_nothing" {
  assert {
    condition     = idp_app.platform.revision == 1 && length(idp_app.platform.drift) == 0
    error_message = "applying the same configuration again made a new revision or found drift"
  }
}
