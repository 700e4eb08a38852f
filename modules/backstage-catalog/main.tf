data "idp_catalog" "this" {
  namespace     = var.namespace
  default_owner = var.default_owner
  app_clusters  = var.app_clusters
}

locals {
  file = coalesce(var.file, "${path.root}/catalog-info.yaml")
}

# The file is written by the shell, as no provider of the platform writes files; it is rewritten when
# the catalog changes and removed on destroy. The content goes through the environment, never the
# command line, and is renamed into place so that Backstage never reads half a file.
resource "terraform_data" "catalog_info" {
  input = {
    file   = local.file
    sha256 = sha256(data.idp_catalog.this.yaml)
  }
  triggers_replace = [local.file, sha256(data.idp_catalog.this.yaml)]

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = "printf '%s' \"$CATALOG_INFO\" > \"$CATALOG_FILE.tmp\" && mv \"$CATALOG_FILE.tmp\" \"$CATALOG_FILE\""
    environment = {
      CATALOG_INFO = data.idp_catalog.this.yaml
      CATALOG_FILE = local.file
    }
  }

  provisioner "local-exec" {
    when        = destroy
    interpreter = ["/bin/sh", "-c"]
    command     = "rm -f \"$CATALOG_FILE\""
    environment = {
      CATALOG_FILE = self.input.file
    }
  }
}
