package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// startEtcd starts a single-member etcd on loopback and returns its client URL.
func (s *Sandbox) startEtcd(ctx context.Context, binDir string) (string, error) {
	clientPort, err := freePort()
	if err != nil {
		return "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	proc, err := s.start("etcd", nil, filepath.Join(binDir, "etcd"),
		"--name=sandbox",
		"--data-dir="+filepath.Join(s.dir, "etcd"),
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=sandbox="+peerURL,
		"--unsafe-no-fsync", // throw-away data: durability buys nothing and fsync is slow on CI disks
		"--log-level=warn",
	)
	if err != nil {
		return "", err
	}
	err = proc.waitReady(ctx, time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, http.DefaultClient, clientURL+"/health")
	})
	return clientURL, err
}

// controlPlane is a kube-apiserver with its controller-manager: the management cluster, and later the
// workload clusters the cloud simulator creates, each under its own etcd prefix.
type controlPlane struct {
	name           string
	host           string
	caPEM          []byte
	kubeconfigPath string
	restConfig     *rest.Config
}

func (s *Sandbox) startControlPlane(ctx context.Context, binDir, name, etcdURL string, extraArgs ...string) (*controlPlane, error) {
	dir := filepath.Join(s.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	ca, err := newCertAuthority(name + "-ca")
	if err != nil {
		return nil, err
	}
	caPath := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caPath, ca.certPEM, 0o600); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", caPath, err)
	}
	servingCert, servingKey, err := ca.issueFiles(dir, "apiserver", certRequest{
		commonName: "kube-apiserver",
		hosts:      []string{"127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	})
	if err != nil {
		return nil, err
	}
	saKey := filepath.Join(dir, "service-account.key")
	if err := writeSigningKey(saKey); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := "https://127.0.0.1:" + strconv.Itoa(port)

	adminKubeconfig, err := writeClientKubeconfig(ca, dir, "admin", host, certRequest{commonName: "sandbox-admin", organizations: []string{"system:masters"}})
	if err != nil {
		return nil, err
	}
	kcmKubeconfig, err := writeClientKubeconfig(ca, dir, "controller-manager", host, certRequest{commonName: "system:kube-controller-manager"})
	if err != nil {
		return nil, err
	}

	apiserver, err := s.start(name+"-apiserver", nil, filepath.Join(binDir, "kube-apiserver"), append([]string{
		"--etcd-servers=" + etcdURL,
		"--etcd-prefix=/" + name,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + servingCert, "--tls-private-key-file=" + servingKey,
		"--client-ca-file=" + caPath,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}, extraArgs...)...,
	)
	if err != nil {
		return nil, err
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", adminKubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cannot load the admin kubeconfig of %s: %w", name, err)
	}
	httpClient, err := rest.HTTPClientFor(restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build an HTTP client for %s: %w", name, err)
	}
	if err := apiserver.waitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, httpClient, host+"/readyz")
	}); err != nil {
		return nil, err
	}

	controllerManager, err := s.start(name+"-controller-manager", nil, filepath.Join(binDir, "kube-controller-manager"),
		"--kubeconfig="+kcmKubeconfig,
		"--authentication-kubeconfig="+kcmKubeconfig,
		"--authorization-kubeconfig="+kcmKubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+saKey,
		"--root-ca-file="+caPath,
		"--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route,-persistentvolume-binder,-attachdetach,-persistentvolume-expander",
	)
	if err != nil {
		return nil, err
	}
	// The controller-manager is up once it has created the default service account, which it does on
	// its first sync of the namespaces.
	clientset, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for %s: %w", name, err)
	}
	if err := controllerManager.waitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		_, err := clientset.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		return nil, err
	}
	return &controlPlane{name: name, host: host, caPEM: ca.certPEM, kubeconfigPath: adminKubeconfig, restConfig: restConfig}, nil
}

// writeClientKubeconfig issues a client certificate and writes a kubeconfig that uses it.
func writeClientKubeconfig(ca *certAuthority, dir, user, host string, req certRequest) (string, error) {
	certPEM, keyPEM, err := ca.issue(req)
	if err != nil {
		return "", err
	}
	config := clientcmdapi.NewConfig()
	config.Clusters["sandbox"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: ca.certPEM}
	config.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	config.Contexts[user] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: user}
	config.CurrentContext = user
	path := filepath.Join(dir, user+".kubeconfig")
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		return "", fmt.Errorf("cannot write kubeconfig %s: %w", path, err)
	}
	return path, nil
}

// providerServiceAccountToken creates the identity the provider uses when it is configured with host,
// token and CA rather than a kubeconfig: a service account bound to cluster-admin, and a token for it.
func providerServiceAccountToken(ctx context.Context, cp *controlPlane) (string, error) {
	clientset, err := kubernetes.NewForConfig(cp.restConfig)
	if err != nil {
		return "", fmt.Errorf("cannot build a client for %s: %w", cp.name, err)
	}
	const namespace, name = "kube-system", "terraform-provider-idp"
	_, err = clientset.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("cannot create service account %s/%s: %w", namespace, name, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
	}
	_, err = clientset.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("cannot bind service account %s/%s: %w", namespace, name, err)
	}
	expiry := int64((48 * time.Hour).Seconds())
	token, err := clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("cannot create a token for %s/%s: %w", namespace, name, err)
	}
	return token.Status.Token, nil
}

func httpGetOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
