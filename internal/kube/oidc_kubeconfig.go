package kube

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// OIDCLogin says which cluster a user logs in to and how: with a token from the OIDC issuer the
// cluster trusts, got by kubelogin (int128/kubelogin) as a kubectl credential plugin.
type OIDCLogin struct {
	// ClusterName names the kubeconfig's cluster and context.
	ClusterName string
	// Server is the API server's https URL.
	Server string
	// CAData is the PEM CA of the API server; empty trusts the system's roots.
	CAData    []byte
	IssuerURL string
	// ClientID is the issuer's client users log in with; its tokens must be for the audience the
	// cluster expects.
	ClientID string
	// IssuerCAData is the PEM CA of a private issuer; empty trusts the system's roots.
	IssuerCAData []byte
	// Command runs kubelogin: "kubectl" (the default) runs it as the plugin `kubectl oidc-login`; any
	// other command is taken to be the kubelogin binary itself.
	Command string
}

// OIDCKubeconfig is a kubeconfig with one cluster, context and user, whose user gets its token from
// kubelogin at each use. It holds no token or secret: everyone who may log in can share it.
func OIDCKubeconfig(login OIDCLogin) ([]byte, error) {
	if login.ClusterName == "" {
		return nil, errors.New("an OIDC kubeconfig needs a cluster name")
	}
	if err := checkHTTPS(login.Server); err != nil {
		return nil, fmt.Errorf("API server URL %q: %w", login.Server, err)
	}
	if err := checkHTTPS(login.IssuerURL); err != nil {
		return nil, fmt.Errorf("issuer URL %q: %w", login.IssuerURL, err)
	}
	if login.ClientID == "" {
		return nil, errors.New("an OIDC kubeconfig needs the client ID users log in with")
	}
	if err := checkCertificates(login.CAData); err != nil {
		return nil, fmt.Errorf("CA of the API server: %w", err)
	}
	if err := checkCertificates(login.IssuerCAData); err != nil {
		return nil, fmt.Errorf("CA of the issuer: %w", err)
	}
	command := login.Command
	if command == "" {
		command = "kubectl"
	}
	var args []string
	if base := filepath.Base(command); base == "kubectl" || base == "kubectl.exe" {
		args = append(args, "oidc-login")
	}
	args = append(args, "get-token", "--oidc-issuer-url="+login.IssuerURL, "--oidc-client-id="+login.ClientID)
	if len(login.IssuerCAData) > 0 {
		// kubelogin takes the CA as base64 of the PEM, as kubeconfigs hold certificate-authority-data.
		args = append(args, "--certificate-authority-data="+base64.StdEncoding.EncodeToString(login.IssuerCAData))
	}
	user := "oidc@" + login.ClusterName
	config := clientcmdapi.NewConfig()
	config.Clusters[login.ClusterName] = &clientcmdapi.Cluster{Server: login.Server, CertificateAuthorityData: login.CAData}
	config.AuthInfos[user] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1",
		Command:    command,
		Args:       args,
		InstallHint: "The kubeconfig logs in with kubelogin, the kubectl oidc-login plugin: " +
			"see https://github.com/int128/kubelogin#setup to install it.",
		// kubelogin opens a browser, or with a keyboard grant reads from the terminal when it has one.
		InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode,
	}}
	config.Contexts[login.ClusterName] = &clientcmdapi.Context{Cluster: login.ClusterName, AuthInfo: user}
	config.CurrentContext = login.ClusterName
	raw, err := clientcmd.Write(*config)
	if err != nil {
		return nil, fmt.Errorf("cannot write the OIDC kubeconfig of cluster %s: %w", login.ClusterName, err)
	}
	return raw, nil
}

// checkHTTPS holds a URL to what both the API server and an OIDC issuer must be: https with a host.
func checkHTTPS(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "https" || u.Host == "" {
		return errors.New("must be an https URL with a host")
	}
	if strings.ContainsAny(raw, "?#") {
		return errors.New("must have no query or fragment")
	}
	return nil
}

// checkCertificates accepts empty data or PEM that holds only certificates, so that a kubeconfig
// with a broken CA fails here and not at each login.
func checkCertificates(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	rest, found := data, false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("holds a PEM %s, not only certificates", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("holds an unreadable certificate: %w", err)
		}
		found = true
	}
	if !found || strings.TrimSpace(string(rest)) != "" {
		return errors.New("is not PEM certificates")
	}
	return nil
}
