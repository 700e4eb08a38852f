data "idp_clusters" "aws" {
  cloud = "aws"
}

output "aws_clusters_not_ready" {
  value = { for cluster in data.idp_clusters.aws.clusters : cluster.name => cluster.message if cluster.status != "Ready" }
}
