package provider

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// diagSummary is what the tests compare of a diagnostic: where it points and what it says first.
type diagSummary struct {
	Path    string
	Summary string
}

func summarize(diags diag.Diagnostics) []diagSummary {
	var out []diagSummary
	for _, d := range diags {
		s := diagSummary{Summary: d.Summary()}
		if withPath, ok := d.(diag.DiagnosticWithPath); ok {
			s.Path = withPath.Path().String()
		}
		out = append(out, s)
	}
	return out
}

func str(s string) types.String { return types.StringValue(s) }

func TestResolveConfig(t *testing.T) {
	sandboxEnv := map[string]string{
		"IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH": "/env/kubeconfig",
		"IDP_VAULT_ADDRESS":                      "http://vault.env:8200",
		"IDP_VAULT_APPROLE_ROLE_ID":              "env-role",
		"IDP_VAULT_APPROLE_SECRET_ID":            "env-secret",
		"IDP_KEYCLOAK_URL":                       "http://keycloak.env",
		"IDP_KEYCLOAK_REALM":                     "idp",
		"IDP_KEYCLOAK_CLIENT_ID":                 "provider",
		"IDP_KEYCLOAK_CLIENT_SECRET":             "env-client-secret",
	}
	cases := map[string]struct {
		reason string
		model  providerModel
		env    map[string]string
		want   backendConfigs
		diags  []diagSummary
	}{
		"NothingConfigured": {
			reason: "With neither blocks nor variables every backend is left unconfigured, which is not an error.",
			want:   backendConfigs{clusterRequestTimeout: 30 * time.Second},
		},
		"AllFromEnvironment": {
			reason: "Every backend can be configured from IDP_* variables alone, with the documented defaults.",
			env:    sandboxEnv,
			want: backendConfigs{
				management: &kube.Config{KubeconfigPath: "/env/kubeconfig", RequestTimeout: 30 * time.Second, Name: "management cluster"},
				vault: &vault.Config{Address: "http://vault.env:8200", AppRoleMount: "approle", AppRoleRoleID: "env-role",
					AppRoleSecretID: "env-secret", JWTMount: "jwt", KVMount: "secret", Prefix: "idp", RequestTimeout: 30 * time.Second},
				keycloak: &keycloak.Config{URL: "http://keycloak.env", Realm: "idp", AuthRealm: "idp", ClientID: "provider", ClientSecret: "env-client-secret",
					IssuerURL: "http://keycloak.env/realms/idp", LoginClientID: "kubernetes", RequestTimeout: 30 * time.Second},
				clusterRequestTimeout: 30 * time.Second,
			},
		},
		"RequestTimeoutsFromConfiguration": {
			reason: "request_timeout in a block sets that backend's bound without discarding the block's connection settings from the " +
				"environment; the management cluster's also bounds workload clusters.",
			env: withEnv(sandboxEnv, map[string]string{"IDP_VAULT_REQUEST_TIMEOUT": "1m"}),
			model: providerModel{
				ManagementCluster: &managementClusterModel{RequestTimeout: str("3s")},
				Vault:             &vaultModel{RequestTimeout: str("4s")},
				Keycloak:          &keycloakModel{RequestTimeout: str("1m30s")},
			},
			want: backendConfigs{
				management: &kube.Config{KubeconfigPath: "/env/kubeconfig", RequestTimeout: 3 * time.Second, Name: "management cluster"},
				vault: &vault.Config{Address: "http://vault.env:8200", AppRoleMount: "approle", AppRoleRoleID: "env-role",
					AppRoleSecretID: "env-secret", JWTMount: "jwt", KVMount: "secret", Prefix: "idp", RequestTimeout: 4 * time.Second},
				keycloak: &keycloak.Config{URL: "http://keycloak.env", Realm: "idp", AuthRealm: "idp", ClientID: "provider", ClientSecret: "env-client-secret",
					IssuerURL: "http://keycloak.env/realms/idp", LoginClientID: "kubernetes", RequestTimeout: 90 * time.Second},
				clusterRequestTimeout: 3 * time.Second,
			},
		},
		"RequestTimeoutFromEnvironment": {
			reason: "IDP_<BLOCK>_REQUEST_TIMEOUT sets the bound when the block does not, also for workload clusters without a management cluster.",
			env:    map[string]string{"IDP_MANAGEMENT_CLUSTER_REQUEST_TIMEOUT": "10s", "IDP_VAULT_ADDRESS": "http://v", "IDP_VAULT_TOKEN": "t", "IDP_VAULT_REQUEST_TIMEOUT": "45s"},
			want: backendConfigs{
				vault: &vault.Config{Address: "http://v", Token: "t", AppRoleMount: "approle", JWTMount: "jwt", KVMount: "secret", Prefix: "idp",
					RequestTimeout: 45 * time.Second},
				clusterRequestTimeout: 10 * time.Second,
			},
		},
		"RequestTimeoutNotADuration": {
			reason: "A request timeout that is not a duration is an error on its attribute.",
			model:  providerModel{Vault: &vaultModel{Address: str("http://v"), Token: str("t"), RequestTimeout: str("30")}},
			diags:  []diagSummary{{Path: "vault.request_timeout", Summary: "Invalid request timeout"}},
		},
		"RequestTimeoutZero": {
			reason: "A zero timeout would fail every request; it is refused rather than read as no bound.",
			model:  providerModel{Keycloak: &keycloakModel{URL: str("http://k"), Realm: str("r"), Username: str("u"), Password: str("p"), RequestTimeout: str("0s")}},
			diags:  []diagSummary{{Path: "keycloak.request_timeout", Summary: "Invalid request timeout"}},
		},
		"RequestTimeoutBadInEnvironment": {
			reason: "A bad value from the environment is reported on the attribute it stands for.",
			env:    withEnv(sandboxEnv, map[string]string{"IDP_MANAGEMENT_CLUSTER_REQUEST_TIMEOUT": "-1s"}),
			diags:  []diagSummary{{Path: "management_cluster.request_timeout", Summary: "Invalid request timeout"}},
		},
		"RequestTimeoutUnknown": {
			reason: "The request timeout may not depend on values of the same apply either.",
			model:  providerModel{ManagementCluster: &managementClusterModel{RequestTimeout: types.StringUnknown()}},
			diags:  []diagSummary{{Path: "management_cluster.request_timeout", Summary: "Provider configuration is not known until apply"}},
		},
		"ConfigAuthOverridesEnvironmentAuth": {
			reason: "A token in the configuration replaces the AppRole of the environment instead of conflicting with it.",
			env:    sandboxEnv,
			model: providerModel{
				ManagementCluster: &managementClusterModel{Host: str("https://k8s.example:6443"), Token: str("t"), ClusterCACertificate: str("PEM")},
				Vault:             &vaultModel{Token: str("root"), KVMount: str("kv"), Prefix: str("teams/platform")},
				Keycloak:          &keycloakModel{Username: str("admin"), Password: str("pw")},
			},
			want: backendConfigs{
				management: &kube.Config{Host: "https://k8s.example:6443", Token: "t", CACertificatePEM: "PEM", RequestTimeout: 30 * time.Second,
					Name: "management cluster"},
				vault: &vault.Config{Address: "http://vault.env:8200", Token: "root", AppRoleMount: "approle", JWTMount: "jwt",
					KVMount: "kv", Prefix: "teams/platform", RequestTimeout: 30 * time.Second},
				keycloak: &keycloak.Config{URL: "http://keycloak.env", Realm: "idp", AuthRealm: "master", Username: "admin", Password: "pw",
					IssuerURL: "http://keycloak.env/realms/idp", LoginClientID: "kubernetes", RequestTimeout: 30 * time.Second},
				clusterRequestTimeout: 30 * time.Second,
			},
		},
		"KubeconfigAndHost": {
			reason: "Two ways of reaching the management cluster at once are ambiguous.",
			model:  providerModel{ManagementCluster: &managementClusterModel{KubeconfigPath: str("/k"), Host: str("https://h"), Token: str("t")}},
			diags:  []diagSummary{{Path: "management_cluster.host", Summary: "Conflicting management cluster configuration"}},
		},
		"HostWithoutToken": {
			reason: "A host needs a token to authenticate.",
			model:  providerModel{ManagementCluster: &managementClusterModel{Host: str("https://h")}},
			diags:  []diagSummary{{Path: "management_cluster.token", Summary: "Missing management cluster token"}},
		},
		"PlainHTTPHost": {
			reason: "A bearer token is never sent over plain HTTP.",
			model:  providerModel{ManagementCluster: &managementClusterModel{Host: str("http://h"), Token: str("t")}},
			diags:  []diagSummary{{Path: "management_cluster.host", Summary: "Management cluster host must use https"}},
		},
		"ContextWithoutKubeconfig": {
			reason: "A context alone says nothing about where the cluster is.",
			model:  providerModel{ManagementCluster: &managementClusterModel{KubeconfigContext: str("admin")}},
			diags:  []diagSummary{{Path: "management_cluster.host", Summary: "Incomplete management cluster configuration"}},
		},
		"UnknownHost": {
			reason: "The provider configuration may not depend on values of the same apply.",
			model:  providerModel{ManagementCluster: &managementClusterModel{Host: types.StringUnknown()}},
			diags:  []diagSummary{{Path: "management_cluster.host", Summary: "Provider configuration is not known until apply"}},
		},
		"VaultTwoLoginMethods": {
			reason: "A token and an AppRole are alternatives.",
			model:  providerModel{Vault: &vaultModel{Address: str("http://v"), Token: str("t"), AppRoleRoleID: str("r"), AppRoleSecretID: str("s")}},
			diags:  []diagSummary{{Path: "vault.token", Summary: "Conflicting Vault credentials"}},
		},
		"VaultNoLoginMethod": {
			reason: "An address alone cannot log in.",
			model:  providerModel{Vault: &vaultModel{Address: str("http://v")}},
			diags:  []diagSummary{{Path: "vault.token", Summary: "Missing Vault credentials"}},
		},
		"VaultAppRoleWithoutSecret": {
			reason: "An AppRole needs both halves.",
			model:  providerModel{Vault: &vaultModel{Address: str("http://v"), AppRoleRoleID: str("r")}},
			diags:  []diagSummary{{Path: "vault.approle_secret_id", Summary: "Missing AppRole secret ID"}},
		},
		"VaultJWTWithoutToken": {
			reason: "A JWT role needs the JWT.",
			model:  providerModel{Vault: &vaultModel{Address: str("http://v"), JWTRole: str("ci")}},
			diags:  []diagSummary{{Path: "vault.jwt", Summary: "Missing JWT"}},
		},
		"VaultCredentialsWithoutAddress": {
			reason: "Credentials without an address point nowhere.",
			model:  providerModel{Vault: &vaultModel{Token: str("t")}},
			diags:  []diagSummary{{Path: "vault.address", Summary: "Missing Vault address"}},
		},
		"VaultPrefixTraversal": {
			reason: "No user input is joined into a Vault path unvalidated.",
			model:  providerModel{Vault: &vaultModel{Address: str("http://v"), Token: str("t"), Prefix: str("idp/../sys")}},
			diags:  []diagSummary{{Path: "vault.prefix", Summary: "Invalid Vault path"}},
		},
		"KeycloakBothLogins": {
			reason: "Client credentials and an admin user are alternatives.",
			model: providerModel{Keycloak: &keycloakModel{URL: str("http://k"), Realm: str("r"), ClientID: str("c"), ClientSecret: str("s"),
				Username: str("u"), Password: str("p")}},
			diags: []diagSummary{{Path: "keycloak.client_id", Summary: "Conflicting Keycloak credentials"}},
		},
		"KeycloakMissingRealmAndSecret": {
			reason: "Every missing piece is reported at once, each on its own attribute.",
			model:  providerModel{Keycloak: &keycloakModel{URL: str("http://k"), ClientID: str("c")}},
			diags: []diagSummary{
				{Path: "keycloak.realm", Summary: "Missing Keycloak realm"},
				{Path: "keycloak.client_secret", Summary: "Missing Keycloak client secret"},
			},
		},
		"KeycloakBadURL": {
			reason: "The URL must be http(s).",
			model:  providerModel{Keycloak: &keycloakModel{URL: str("keycloak.example"), Realm: str("r"), Username: str("u"), Password: str("p")}},
			diags:  []diagSummary{{Path: "keycloak.url", Summary: "Invalid Keycloak URL"}},
		},
		"MissingChartKeyring": {
			reason: "A keyring that cannot be read fails the configuration instead of silently skipping verification.",
			model:  providerModel{Helm: &helmModel{Keyring: str("/no/such/pubring.gpg")}},
			diags:  []diagSummary{{Path: "helm.keyring", Summary: "Cannot use the chart keyring"}},
		},
		"ChartKeyringFromEnvironment": {
			reason: "The keyring comes from IDP_HELM_KEYRING too.",
			env:    map[string]string{"IDP_HELM_KEYRING": "/no/such/pubring.gpg"},
			diags:  []diagSummary{{Path: "helm.keyring", Summary: "Cannot use the chart keyring"}},
		},
		"AddonChartMirror": {
			reason: "The add-on chart mirror comes from the configuration before the environment.",
			model:  providerModel{AddonChartMirror: str("oci://registry.example/addons")},
			env:    map[string]string{"IDP_ADDON_CHART_MIRROR": "https://ignored.example/charts"},
			want:   backendConfigs{clusterRequestTimeout: 30 * time.Second, addonChartMirror: "oci://registry.example/addons"},
		},
		"AddonChartMirrorFromEnvironment": {
			reason: "IDP_ADDON_CHART_MIRROR supplies the mirror when the configuration does not.",
			env:    map[string]string{"IDP_ADDON_CHART_MIRROR": "https://charts.example/addons"},
			want:   backendConfigs{clusterRequestTimeout: 30 * time.Second, addonChartMirror: "https://charts.example/addons"},
		},
		"BadAddonChartMirror": {
			reason: "A mirror from the environment that is neither oci:// nor http(s):// is refused on the attribute (the attribute's own validator checks a configured one).",
			env:    map[string]string{"IDP_ADDON_CHART_MIRROR": "ftp://mirror.example/charts"},
			diags:  []diagSummary{{Path: "addon_chart_mirror", Summary: "Invalid add-on chart mirror"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, diags := resolveConfig(tc.model, func(key string) string { return tc.env[key] })
			if diff := cmp.Diff(tc.diags, summarize(diags)); diff != "" {
				t.Errorf("%s\nresolveConfig(...) diagnostics: -want, +got:\n%s", tc.reason, diff)
			}
			if diags.HasError() {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(backendConfigs{})); diff != "" {
				t.Errorf("%s\nresolveConfig(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// withEnv is base with extra set on top.
func withEnv(base, extra map[string]string) map[string]string {
	env := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestRequestTimeoutValidator(t *testing.T) {
	cases := map[string]struct {
		reason string
		value  types.String
		want   []diagSummary
	}{
		"Duration":    {reason: "A Go duration is accepted.", value: str("1m30s")},
		"Null":        {reason: "An unset timeout takes the default.", value: types.StringNull()},
		"Unknown":     {reason: "An unknown value is left to Configure, which reports it.", value: types.StringUnknown()},
		"NoUnit":      {reason: "A number without a unit is ambiguous.", value: str("30"), want: []diagSummary{{Path: "vault.request_timeout", Summary: "Invalid request timeout"}}},
		"Negative":    {reason: "A negative timeout bounds nothing.", value: str("-5s"), want: []diagSummary{{Path: "vault.request_timeout", Summary: "Invalid request timeout"}}},
		"NotDuration": {reason: "Words are not durations.", value: str("soon"), want: []diagSummary{{Path: "vault.request_timeout", Summary: "Invalid request timeout"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := validator.StringRequest{Path: path.Root("vault").AtName("request_timeout"), ConfigValue: tc.value}
			var resp validator.StringResponse
			requestTimeoutValidator{}.ValidateString(context.Background(), req, &resp)
			if diff := cmp.Diff(tc.want, summarize(resp.Diagnostics)); diff != "" {
				t.Errorf("%s\nValidateString(%s): -want, +got:\n%s", tc.reason, tc.value, diff)
			}
		})
	}
}
