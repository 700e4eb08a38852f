package kube

import (
	"errors"
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
)

// KubeconfigSummary is what a kubeconfig's current context says about its cluster and user.
type KubeconfigSummary struct {
	Endpoint          string
	CACertificatePEM  string
	ClientCertificate string
	ClientKey         string
	Token             string
}

// ParseKubeconfig checks that raw is a kubeconfig with a current context that names a cluster, and
// returns that cluster's endpoint and CA and the context user's credentials.
func ParseKubeconfig(raw []byte) (KubeconfigSummary, error) {
	config, err := clientcmd.Load(raw)
	if err != nil {
		return KubeconfigSummary{}, fmt.Errorf("not a kubeconfig: %w", err)
	}
	if config.CurrentContext == "" {
		return KubeconfigSummary{}, errors.New("the kubeconfig has no current-context")
	}
	context, ok := config.Contexts[config.CurrentContext]
	if !ok {
		return KubeconfigSummary{}, fmt.Errorf("the kubeconfig's current-context %q is not defined", config.CurrentContext)
	}
	cluster, ok := config.Clusters[context.Cluster]
	if !ok || cluster.Server == "" {
		return KubeconfigSummary{}, fmt.Errorf("context %q names cluster %q, which the kubeconfig does not define with a server", config.CurrentContext, context.Cluster)
	}
	if cluster.InsecureSkipTLSVerify {
		return KubeconfigSummary{}, fmt.Errorf("cluster %q skips TLS verification; the platform only stores kubeconfigs that verify the server", context.Cluster)
	}
	if cluster.CertificateAuthority != "" {
		return KubeconfigSummary{}, fmt.Errorf("cluster %q refers to the file %s; embed it as certificate-authority-data so the kubeconfig works wherever it is read", context.Cluster, cluster.CertificateAuthority)
	}
	summary := KubeconfigSummary{Endpoint: cluster.Server, CACertificatePEM: string(cluster.CertificateAuthorityData)}
	if user, ok := config.AuthInfos[context.AuthInfo]; ok {
		if user.ClientCertificate != "" || user.ClientKey != "" || user.TokenFile != "" {
			return KubeconfigSummary{}, fmt.Errorf("user %q refers to files; embed client-certificate-data, client-key-data or token so the kubeconfig works wherever it is read", context.AuthInfo)
		}
		summary.ClientCertificate = string(user.ClientCertificateData)
		summary.ClientKey = string(user.ClientKeyData)
		summary.Token = user.Token
	}
	return summary, nil
}
