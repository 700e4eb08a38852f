package provider

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

func TestLoginIssuer(t *testing.T) {
	cases := map[string]struct {
		reason    string
		cfg       *keycloak.Config
		want      oidcIssuer
		wantDiags []diagSummary
	}{
		"NotConfigured": {
			reason:    "Without a keycloak block there is no issuer; the diagnostic names the block.",
			wantDiags: []diagSummary{{Summary: "The provider's keycloak block is not configured"}},
		},
		"Configured": {
			reason: "The block's issuer, its CA and login client are used as given.",
			cfg: &keycloak.Config{
				URL: "http://keycloak.internal:8080", Realm: "idp", IssuerURL: "https://sso.example.com/realms/idp",
				IssuerCAPEM: []byte("PEM"), LoginClientID: "kubectl",
			},
			want: oidcIssuer{url: "https://sso.example.com/realms/idp", caPEM: []byte("PEM"), clientID: "kubectl"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, diags := loginIssuer(tc.cfg)
			if diff := cmp.Diff(tc.wantDiags, summarize(diags)); diff != "" {
				t.Errorf("%s\ndiagnostics: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(oidcIssuer{})); diff != "" {
				t.Errorf("%s\nissuer: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOIDCKubeconfigModel(t *testing.T) {
	ca, err := os.ReadFile(filepath.Join("..", "kube", "testdata", "oidc_kubeconfig", "cluster-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	issuer := oidcIssuer{url: "https://sso.example.com/realms/idp", clientID: "kubernetes"}
	adminKubeconfig := strings.Replace(testKubeconfig, `server: "https://127.0.0.1:6443"`,
		`server: "https://127.0.0.1:6443", certificate-authority-data: `+b64(ca), 1)
	cases := map[string]struct {
		reason       string
		registration vault.Kubeconfig
		issuer       oidcIssuer
		wantServer   string
		wantCA       string
		wantDiags    []diagSummary
	}{
		"FromRegistration": {
			reason:       "The endpoint and CA are the registration's.",
			registration: vault.Kubeconfig{Kubeconfig: adminKubeconfig, Endpoint: "https://payments.example.com", CA: string(ca)},
			issuer:       issuer,
			wantServer:   "https://payments.example.com",
			wantCA:       string(ca),
		},
		"FromAdminKubeconfig": {
			reason:       "A registration without an endpoint has them in its kubeconfig.",
			registration: vault.Kubeconfig{Kubeconfig: adminKubeconfig},
			issuer:       issuer,
			wantServer:   "https://127.0.0.1:6443",
			wantCA:       string(ca),
		},
		"PlainHTTPIssuer": {
			reason:       "An issuer the clusters cannot trust (http) is refused, naming where it comes from.",
			registration: vault.Kubeconfig{Kubeconfig: adminKubeconfig, Endpoint: "https://payments.example.com", CA: string(ca)},
			issuer:       oidcIssuer{url: "http://127.0.0.1:8080/realms/idp", clientID: "kubernetes"},
			wantDiags:    []diagSummary{{Summary: "Cannot build the cluster's login kubeconfig"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cluster := registeredCluster{name: "payments", kubeconfig: tc.registration, location: "secret/idp/clusters/payments/kubeconfig"}
			got, diags := oidcKubeconfigModel(kubeconfigModel{Cluster: str("payments")}, cluster, tc.issuer)
			if diff := cmp.Diff(tc.wantDiags, summarize(diags)); diff != "" {
				t.Fatalf("%s\ndiagnostics: -want, +got:\n%s", tc.reason, diff)
			}
			if diags.HasError() {
				return
			}
			want := kubeconfigModel{
				Cluster: str("payments"), Kubeconfig: got.Kubeconfig, Endpoint: str(tc.wantServer),
				IssuerURL: str(tc.issuer.url), ClientID: str(tc.issuer.clientID),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nmodel: -want, +got:\n%s", tc.reason, diff)
			}
			config, err := clientcmd.Load([]byte(got.Kubeconfig.ValueString()))
			if err != nil {
				t.Fatalf("%s\nthe kubeconfig does not load: %v", tc.reason, err)
			}
			server := config.Clusters["payments"]
			user := config.AuthInfos["oidc@payments"]
			if server == nil || user == nil || user.Exec == nil {
				t.Fatalf("%s\nno cluster payments with an exec user oidc@payments in:\n%s", tc.reason, got.Kubeconfig.ValueString())
			}
			if diff := cmp.Diff([2]string{tc.wantServer, tc.wantCA}, [2]string{server.Server, string(server.CertificateAuthorityData)}); diff != "" {
				t.Errorf("%s\n(server, CA): -want, +got:\n%s", tc.reason, diff)
			}
			if user.Token != "" || user.ClientKeyData != nil || strings.Contains(got.Kubeconfig.ValueString(), "token: t") {
				t.Errorf("%s\nthe login kubeconfig carries the admin credentials:\n%s", tc.reason, got.Kubeconfig.ValueString())
			}
		})
	}
}

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// documented is what the test reads of an attribute of either kind of schema.
type documented interface {
	GetMarkdownDescription() string
	IsSensitive() bool
}

func TestAccessSchemas(t *testing.T) {
	ctx := context.Background()
	var data datasource.SchemaResponse
	newAccessCheckDataSource().Schema(ctx, datasource.SchemaRequest{}, &data)
	var eph ephemeral.SchemaResponse
	newKubeconfigEphemeral().Schema(ctx, ephemeral.SchemaRequest{}, &eph)
	dataAttributes, ephAttributes := map[string]documented{}, map[string]documented{}
	for name, attribute := range data.Schema.Attributes {
		dataAttributes[name] = attribute
	}
	for name, attribute := range eph.Schema.Attributes {
		ephAttributes[name] = attribute
	}
	cases := map[string]struct {
		reason      string
		validate    diag.Diagnostics
		description string
		attributes  map[string]documented
		// state holds a filled model, which must fit the schema attribute for attribute.
		state tfsdk.State
		model any
		// sensitive is whether any attribute may be sensitive.
		sensitive bool
	}{
		"idp_access_check": {
			reason:      "The data source's schema is valid, documented, and its model fits it.",
			validate:    data.Schema.ValidateImplementation(ctx),
			description: data.Schema.MarkdownDescription,
			attributes:  dataAttributes,
			state:       tfsdk.State{Schema: data.Schema, Raw: tftypes.NewValue(data.Schema.Type().TerraformType(ctx), nil)},
			model: &accessCheckModel{
				ID: str("id"), Cluster: str("payments"), User: str("alice"), Groups: stringList("developers"), Verb: str("get"),
				Resource: str("pods"), Subresource: types.StringNull(), Namespace: str("shop"), Name: types.StringNull(),
				Allowed: types.BoolValue(true), Reason: str(""), Subject: str("oidc:alice"),
			},
			sensitive: true,
		},
		"idp_kubeconfig": {
			reason: "The ephemeral resource's schema is valid, documented, fits its model, and has nothing sensitive: " +
				"the kubeconfig holds no credential.",
			validate:    eph.Schema.ValidateImplementation(ctx),
			description: eph.Schema.MarkdownDescription,
			attributes:  ephAttributes,
			state:       tfsdk.State{Schema: eph.Schema, Raw: tftypes.NewValue(eph.Schema.Type().TerraformType(ctx), nil)},
			model: &kubeconfigModel{
				Cluster: str("payments"), Kubeconfig: str("apiVersion: v1"), Endpoint: str("https://x"), IssuerURL: str("https://i"),
				ClientID: str("kubernetes"),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.validate.HasError() {
				t.Errorf("%s\n%v", tc.reason, tc.validate)
			}
			if tc.description == "" {
				t.Errorf("%s\nthe schema has no description", tc.reason)
			}
			for attrName, attribute := range tc.attributes {
				if attribute.GetMarkdownDescription() == "" {
					t.Errorf("%s\n%s has no description", tc.reason, attrName)
				}
				if attribute.IsSensitive() && !tc.sensitive {
					t.Errorf("%s\n%s is sensitive", tc.reason, attrName)
				}
			}
			if diags := tc.state.Set(ctx, tc.model); diags.HasError() {
				t.Errorf("%s\nthe model does not fit the schema: %v", tc.reason, diags)
			}
		})
	}
}

func TestKubeconfigOpen(t *testing.T) {
	ctx := context.Background()
	e := &kubeconfigEphemeral{}
	var schemaResp ephemeral.SchemaResponse
	e.Schema(ctx, ephemeral.SchemaRequest{}, &schemaResp)
	objectType := schemaResp.Schema.Type().TerraformType(ctx)
	config := func(cluster string) tfsdk.Config {
		values := map[string]tftypes.Value{}
		for name, attrType := range objectType.(tftypes.Object).AttributeTypes {
			values[name] = tftypes.NewValue(attrType, nil)
		}
		values["cluster"] = tftypes.NewValue(tftypes.String, cluster)
		return tfsdk.Config{Schema: schemaResp.Schema, Raw: tftypes.NewValue(objectType, values)}
	}
	issuer := &keycloak.Config{URL: "https://keycloak.example.com", Realm: "idp", IssuerURL: "https://keycloak.example.com/realms/idp", LoginClientID: "kubernetes"}
	cases := map[string]struct {
		reason       string
		keycloak     *keycloak.Config
		cluster      string
		deferral     bool
		wantDiags    []diagSummary
		wantDeferred bool
		wantEndpoint string
	}{
		"Registered": {
			reason: "A registered cluster gets a login kubeconfig for its endpoint.", keycloak: issuer, cluster: "payments",
			wantEndpoint: "https://127.0.0.1:6443",
		},
		"Unknown": {
			reason: "A cluster Vault does not know is the one unknown-cluster error on cluster.", keycloak: issuer, cluster: "ghost",
			wantDiags: []diagSummary{{Path: "cluster", Summary: "Unknown cluster"}},
		},
		"UnknownDeferred": {
			reason: "A cluster not there yet, when the CLI can defer, is opened at apply.", keycloak: issuer, cluster: "ghost",
			deferral: true, wantDeferred: true,
		},
		"NoKeycloakBlock": {
			reason: "Without the keycloak block there is no issuer to log in with.", cluster: "payments",
			wantDiags: []diagSummary{{Summary: "The provider's keycloak block is not configured"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newBackends(backendConfigs{vault: &vault.Config{Address: "https://vault.example.com"}, keycloak: tc.keycloak})
			b.newVault = func(context.Context, vault.Config) (vaultAPI, error) {
				return registrations{kubeconfigs: map[string]string{"payments": testKubeconfig}}, nil
			}
			e := &kubeconfigEphemeral{backends: b}
			req := ephemeral.OpenRequest{Config: config(tc.cluster)}
			req.ClientCapabilities.DeferralAllowed = tc.deferral
			resp := &ephemeral.OpenResponse{Result: tfsdk.EphemeralResultData{
				Schema: schemaResp.Schema, Raw: tftypes.NewValue(objectType, nil),
			}}
			e.Open(ctx, req, resp)
			if diff := cmp.Diff(tc.wantDiags, summarize(resp.Diagnostics)); diff != "" {
				t.Fatalf("%s\ndiagnostics: -want, +got:\n%s", tc.reason, diff)
			}
			if (resp.Deferred != nil) != tc.wantDeferred {
				t.Errorf("%s\ndeferred: want %t, got %v", tc.reason, tc.wantDeferred, resp.Deferred)
			}
			if tc.wantEndpoint == "" {
				return
			}
			var got kubeconfigModel
			if diags := resp.Result.Get(ctx, &got); diags.HasError() {
				t.Fatal(diags)
			}
			if got.Endpoint.ValueString() != tc.wantEndpoint || !strings.Contains(got.Kubeconfig.ValueString(), "oidc-login") {
				t.Errorf("%s\nendpoint %s, kubeconfig:\n%s", tc.reason, got.Endpoint, got.Kubeconfig)
			}
		})
	}
}
