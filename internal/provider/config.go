package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"helm.sh/helm/v4/pkg/provenance"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/policy"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// providerModel is the provider block. Each nested block is nil when absent from the configuration;
// its IDP_* environment variables can still configure the backend.
type providerModel struct {
	ManagementCluster *managementClusterModel `tfsdk:"management_cluster"`
	Vault             *vaultModel             `tfsdk:"vault"`
	Keycloak          *keycloakModel          `tfsdk:"keycloak"`
	Helm              *helmModel              `tfsdk:"helm"`
	AddonChartMirror  types.String            `tfsdk:"addon_chart_mirror"`
	Policy            *policyModel            `tfsdk:"policy"`
}

type policyModel struct {
	Paths       types.List   `tfsdk:"paths"`
	Bundle      types.String `tfsdk:"bundle"`
	Enforcement types.String `tfsdk:"enforcement"`
	Team        types.String `tfsdk:"team"`
	Identity    types.String `tfsdk:"identity"`
}

// policyConfig is the policy block resolved: what the engine loads, and who the caller is.
type policyConfig struct {
	engine         policy.Config
	team, identity string
}

type helmModel struct {
	Keyring types.String `tfsdk:"keyring"`
}

type managementClusterModel struct {
	KubeconfigPath       types.String `tfsdk:"kubeconfig_path"`
	KubeconfigContext    types.String `tfsdk:"kubeconfig_context"`
	Host                 types.String `tfsdk:"host"`
	Token                types.String `tfsdk:"token"`
	ClusterCACertificate types.String `tfsdk:"cluster_ca_certificate"`
	RequestTimeout       types.String `tfsdk:"request_timeout"`
}

type vaultModel struct {
	Address         types.String `tfsdk:"address"`
	CACertFile      types.String `tfsdk:"ca_cert_file"`
	Token           types.String `tfsdk:"token"`
	AppRoleMount    types.String `tfsdk:"approle_mount"`
	AppRoleRoleID   types.String `tfsdk:"approle_role_id"`
	AppRoleSecretID types.String `tfsdk:"approle_secret_id"`
	JWTMount        types.String `tfsdk:"jwt_mount"`
	JWTRole         types.String `tfsdk:"jwt_role"`
	JWT             types.String `tfsdk:"jwt"`
	KVMount         types.String `tfsdk:"kv_mount"`
	Prefix          types.String `tfsdk:"prefix"`
	RequestTimeout  types.String `tfsdk:"request_timeout"`
}

type keycloakModel struct {
	URL            types.String `tfsdk:"url"`
	Realm          types.String `tfsdk:"realm"`
	AuthRealm      types.String `tfsdk:"auth_realm"`
	ClientID       types.String `tfsdk:"client_id"`
	ClientSecret   types.String `tfsdk:"client_secret"`
	Username       types.String `tfsdk:"username"`
	Password       types.String `tfsdk:"password"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
	IssuerURL      types.String `tfsdk:"issuer_url"`
	IssuerCAFile   types.String `tfsdk:"issuer_ca_file"`
	LoginClientID  types.String `tfsdk:"login_client_id"`
}

// backendConfigs is the provider configuration after environment variables are merged in and the
// combination is validated; a nil field means that backend is not configured.
type backendConfigs struct {
	management *kube.Config
	vault      *vault.Config
	keycloak   *keycloak.Config
	// policy is nil when no policy is configured: nothing is evaluated.
	policy *policyConfig
	// clusterRequestTimeout bounds the wait for answers of workload clusters' API servers: the
	// management_cluster block's request_timeout, which is about Kubernetes API servers in general.
	clusterRequestTimeout time.Duration
	// chartKeyring, when set, is the keyring that charts from repositories and registries must be signed with.
	chartKeyring *provenance.Signatory
	// addonChartMirror replaces the add-on catalog's upstream chart repositories when set.
	addonChartMirror string
}

// envAddonChartMirror supplies addon_chart_mirror, a top-level attribute, when the configuration does not.
const envAddonChartMirror = "IDP_ADDON_CHART_MIRROR"

// setting is one provider attribute: its value in the configuration, and the environment variable
// (IDP_<BLOCK>_<ATTRIBUTE>) that supplies it when the configuration does not.
type setting struct {
	block, name string
	value       types.String
}

func (s setting) env() string {
	return envVar(s.block, s.name)
}

// envVar names the environment variable of a provider attribute: IDP_<BLOCK>_<ATTRIBUTE>.
func envVar(block, name string) string {
	return "IDP_" + strings.ToUpper(block+"_"+name)
}

func (s setting) path() path.Path {
	return path.Root(s.block).AtName(s.name)
}

// settingGroup is a set of attributes that only make sense together, such as a way of logging in. When
// the configuration sets any attribute of a group, the group's environment variables are ignored, so a
// configuration that says how to log in is never mixed with an environment that says otherwise.
type settingGroup []setting

// resolve returns the group's values by attribute name, from configuration or else from the environment.
func (g settingGroup) resolve(getenv func(string) string) map[string]string {
	fromConfig := false
	for _, s := range g {
		if !s.value.IsNull() && !s.value.IsUnknown() {
			fromConfig = true
		}
	}
	values := make(map[string]string, len(g))
	for _, s := range g {
		if fromConfig {
			values[s.name] = s.value.ValueString()
		} else {
			values[s.name] = getenv(s.env())
		}
	}
	return values
}

func (g settingGroup) path(name string) path.Path {
	for _, s := range g {
		if s.name == name {
			return s.path()
		}
	}
	panic("no provider attribute " + name) // a typo in this file, caught by the unit tests
}

func (g settingGroup) env(name string) string {
	for _, s := range g {
		if s.name == name {
			return s.env()
		}
	}
	panic("no provider attribute " + name)
}

// unknownValues reports configuration values that are not known yet: the provider's configuration must
// not depend on resources created in the same apply.
func unknownValues(groups ...settingGroup) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, g := range groups {
		for _, s := range g {
			if s.value.IsUnknown() {
				diags.AddAttributeError(s.path(), "Provider configuration is not known until apply",
					fmt.Sprintf("%s depends on a value that is only known after apply. The idp provider connects to platform "+
						"services that exist before any apply; set it from a variable, a data source or %s instead.", s.path(), s.env()))
			}
		}
	}
	return diags
}

// resolveConfig merges the environment into the configuration and checks each backend's settings for
// a complete, unambiguous combination.
func resolveConfig(model providerModel, getenv func(string) string) (backendConfigs, diag.Diagnostics) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var (
		cfg   backendConfigs
		diags diag.Diagnostics
	)
	cfg.management, cfg.clusterRequestTimeout, diags = resolveManagementCluster(model.ManagementCluster, getenv)
	vaultCfg, vaultDiags := resolveVault(model.Vault, getenv)
	diags.Append(vaultDiags...)
	keycloakCfg, keycloakDiags := resolveKeycloak(model.Keycloak, getenv)
	diags.Append(keycloakDiags...)
	cfg.vault, cfg.keycloak = vaultCfg, keycloakCfg
	keyring, helmDiags := resolveHelm(model.Helm, getenv)
	diags.Append(helmDiags...)
	cfg.chartKeyring = keyring
	mirror, mirrorDiags := resolveAddonChartMirror(model.AddonChartMirror, getenv)
	diags.Append(mirrorDiags...)
	cfg.addonChartMirror = mirror
	policyCfg, policyDiags := resolvePolicy(model.Policy, getenv)
	diags.Append(policyDiags...)
	cfg.policy = policyCfg
	return cfg, diags
}

// resolvePolicy turns policies on when the configuration has a policy block or the environment sets
// any IDP_POLICY_* variable; an empty block evaluates the shipped library, mandatory.
func resolvePolicy(m *policyModel, getenv func(string) string) (*policyConfig, diag.Diagnostics) {
	const block = "policy"
	var diags diag.Diagnostics
	present := m != nil
	if m == nil {
		m = &policyModel{Paths: types.ListNull(types.StringType)}
	}
	settings := settingGroup{{block, "bundle", m.Bundle}, {block, "enforcement", m.Enforcement}, {block, "team", m.Team}, {block, "identity", m.Identity}}
	if d := unknownValues(settings); d.HasError() {
		return nil, d
	}
	if m.Paths.IsUnknown() {
		diags.AddAttributeError(path.Root(block).AtName("paths"), "Provider configuration is not known until apply",
			"policy.paths depends on a value that is only known after apply; set it from a variable or IDP_POLICY_PATHS.")
		return nil, diags
	}
	values := settings.resolve(getenv)
	var paths []string
	if !m.Paths.IsNull() {
		diags.Append(m.Paths.ElementsAs(context.Background(), &paths, false)...)
	} else if env := getenv(envVar(block, "paths")); env != "" {
		paths = strings.Split(env, ",")
	}
	for _, v := range values {
		present = present || v != ""
	}
	if !present && len(paths) == 0 {
		return nil, diags
	}
	enforcement := withDefault(values["enforcement"], policy.EnforcementMandatory)
	if enforcement != policy.EnforcementMandatory && enforcement != policy.EnforcementAdvisory {
		diags.AddAttributeError(settings.path("enforcement"), "Invalid policy enforcement",
			fmt.Sprintf("%q: use %q (a deny fails the plan) or %q (a deny is a warning).", enforcement, policy.EnforcementMandatory, policy.EnforcementAdvisory))
	}
	return &policyConfig{
		engine: policy.Config{Paths: paths, Bundle: values["bundle"], Enforcement: enforcement},
		team:   values["team"], identity: values["identity"],
	}, diags
}

// resolveAddonChartMirror takes addon_chart_mirror from the configuration, else the environment.
func resolveAddonChartMirror(value types.String, getenv func(string) string) (string, diag.Diagnostics) {
	var diags diag.Diagnostics
	if value.IsUnknown() {
		diags.AddAttributeError(path.Root("addon_chart_mirror"), "Provider configuration is not known until apply",
			"addon_chart_mirror depends on a value that is only known after apply; set it from a variable or "+envAddonChartMirror+".")
		return "", diags
	}
	if !value.IsNull() {
		return value.ValueString(), diags // the attribute's validator checks it
	}
	mirror := getenv(envAddonChartMirror)
	if err := catalog.ValidMirror(mirror); mirror != "" && err != nil {
		diags.AddAttributeError(path.Root("addon_chart_mirror"), "Invalid add-on chart mirror", fmt.Sprintf("%s (from %s): %v", mirror, envAddonChartMirror, err))
	}
	return mirror, diags
}

// addonMirrorValidator checks addon_chart_mirror in the configuration.
type addonMirrorValidator struct{}

func (addonMirrorValidator) Description(context.Context) string {
	return "an oci:// registry path or an http(s):// chart repository"
}
func (v addonMirrorValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (addonMirrorValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := catalog.ValidMirror(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid add-on chart mirror", err.Error())
	}
}

// resolveHelm loads the keyring that chart provenance is verified against, if one is configured.
func resolveHelm(m *helmModel, getenv func(string) string) (*provenance.Signatory, diag.Diagnostics) {
	if m == nil {
		m = &helmModel{Keyring: types.StringNull()}
	}
	keyring := settingGroup{{"helm", "keyring", m.Keyring}}
	if diags := unknownValues(keyring); diags.HasError() {
		return nil, diags
	}
	file := keyring.resolve(getenv)["keyring"]
	if file == "" {
		return nil, nil
	}
	signatory, err := helm.LoadKeyring(file)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddAttributeError(keyring.path("keyring"), "Cannot use the chart keyring",
			fmt.Sprintf("%v\n\nGive a PGP keyring (pubring.gpg, pubring.kbx or armored public keys) in helm.keyring or %s.", err, keyring.env("keyring")))
		return nil, diags
	}
	return signatory, nil
}

// resolveManagementCluster also returns the request timeout of the block, which applies to workload
// clusters too, even when the management cluster itself is not configured.
func resolveManagementCluster(m *managementClusterModel, getenv func(string) string) (*kube.Config, time.Duration, diag.Diagnostics) {
	if m == nil {
		m = &managementClusterModel{}
	}
	const block = "management_cluster"
	connection := settingGroup{
		{block, "kubeconfig_path", m.KubeconfigPath},
		{block, "kubeconfig_context", m.KubeconfigContext},
		{block, "host", m.Host},
		{block, "token", m.Token},
		{block, "cluster_ca_certificate", m.ClusterCACertificate},
	}
	timeout := requestTimeoutSetting(block, m.RequestTimeout)
	if diags := unknownValues(connection, timeout); diags.HasError() {
		return nil, 0, diags
	}
	v := connection.resolve(getenv)
	requestTimeout, diags := resolveRequestTimeout(timeout, getenv)
	switch {
	case v["kubeconfig_path"] == "" && v["host"] == "":
		if v["kubeconfig_context"] != "" || v["token"] != "" || v["cluster_ca_certificate"] != "" {
			diags.AddAttributeError(connection.path("host"), "Incomplete management cluster configuration",
				"Set either kubeconfig_path (optionally with kubeconfig_context) or host with token and cluster_ca_certificate.")
		}
		return nil, requestTimeout, diags
	case v["kubeconfig_path"] != "" && v["host"] != "":
		diags.AddAttributeError(connection.path("host"), "Conflicting management cluster configuration",
			"kubeconfig_path and host are two ways of reaching the management cluster; set one of them.")
	case v["host"] != "" && v["token"] == "":
		diags.AddAttributeError(connection.path("token"), "Missing management cluster token",
			"host needs a bearer token: set token or "+connection.env("token")+".")
	case v["host"] != "" && !strings.HasPrefix(v["host"], "https://"):
		diags.AddAttributeError(connection.path("host"), "Management cluster host must use https",
			fmt.Sprintf("host %q is not an https:// URL; the provider sends a bearer token and verifies the server's certificate.", v["host"]))
	case v["host"] != "" && v["kubeconfig_context"] != "":
		diags.AddAttributeError(connection.path("kubeconfig_context"), "Conflicting management cluster configuration",
			"kubeconfig_context selects a context of kubeconfig_path and means nothing with host.")
	}
	if diags.HasError() {
		return nil, 0, diags
	}
	return &kube.Config{
		KubeconfigPath:    v["kubeconfig_path"],
		KubeconfigContext: v["kubeconfig_context"],
		Host:              v["host"],
		Token:             v["token"],
		CACertificatePEM:  v["cluster_ca_certificate"],
		RequestTimeout:    requestTimeout,
		Name:              "management cluster",
	}, requestTimeout, nil
}

func resolveVault(m *vaultModel, getenv func(string) string) (*vault.Config, diag.Diagnostics) {
	if m == nil {
		m = &vaultModel{}
	}
	const block = "vault"
	server := settingGroup{{block, "address", m.Address}, {block, "ca_cert_file", m.CACertFile}}
	auth := settingGroup{
		{block, "token", m.Token},
		{block, "approle_mount", m.AppRoleMount},
		{block, "approle_role_id", m.AppRoleRoleID},
		{block, "approle_secret_id", m.AppRoleSecretID},
		{block, "jwt_mount", m.JWTMount},
		{block, "jwt_role", m.JWTRole},
		{block, "jwt", m.JWT},
	}
	store := settingGroup{{block, "kv_mount", m.KVMount}, {block, "prefix", m.Prefix}}
	timeout := requestTimeoutSetting(block, m.RequestTimeout)
	if diags := unknownValues(server, auth, store, timeout); diags.HasError() {
		return nil, diags
	}
	s, a, kv := server.resolve(getenv), auth.resolve(getenv), store.resolve(getenv)
	requestTimeout, diags := resolveRequestTimeout(timeout, getenv)
	if s["address"] == "" {
		if a["token"] != "" || a["approle_role_id"] != "" || a["jwt_role"] != "" {
			diags.AddAttributeError(server.path("address"), "Missing Vault address",
				"Vault credentials are configured but no address: set address or "+server.env("address")+".")
		}
		return nil, diags
	}
	methods := 0
	for _, name := range []string{"token", "approle_role_id", "jwt_role"} {
		if a[name] != "" {
			methods++
		}
	}
	switch {
	case methods == 0:
		diags.AddAttributeError(auth.path("token"), "Missing Vault credentials",
			"Configure one way of logging in to Vault: token, approle_role_id with approle_secret_id, or jwt_role with jwt.")
	case methods > 1:
		diags.AddAttributeError(auth.path("token"), "Conflicting Vault credentials",
			"token, approle_role_id and jwt_role are alternative ways of logging in to Vault; set exactly one.")
	case a["approle_role_id"] != "" && a["approle_secret_id"] == "":
		diags.AddAttributeError(auth.path("approle_secret_id"), "Missing AppRole secret ID",
			"approle_role_id needs approle_secret_id (or "+auth.env("approle_secret_id")+").")
	case a["jwt_role"] != "" && a["jwt"] == "":
		diags.AddAttributeError(auth.path("jwt"), "Missing JWT", "jwt_role needs jwt (or "+auth.env("jwt")+").")
	}
	for _, name := range []string{"kv_mount", "prefix"} {
		if value := kv[name]; value != "" && !validPathSegments(value) {
			diags.AddAttributeError(store.path(name), "Invalid Vault path",
				fmt.Sprintf("%q must be one or more path segments of letters, digits, '-', '_' and '.', separated by '/', without '..'.", value))
		}
	}
	if diags.HasError() {
		return nil, diags
	}
	return &vault.Config{
		Address:         s["address"],
		CACertFile:      s["ca_cert_file"],
		Token:           a["token"],
		AppRoleMount:    withDefault(a["approle_mount"], "approle"),
		AppRoleRoleID:   a["approle_role_id"],
		AppRoleSecretID: a["approle_secret_id"],
		JWTMount:        withDefault(a["jwt_mount"], "jwt"),
		JWTRole:         a["jwt_role"],
		JWT:             a["jwt"],
		KVMount:         withDefault(kv["kv_mount"], defaultKVMount),
		Prefix:          withDefault(kv["prefix"], defaultVaultPrefix),
		RequestTimeout:  requestTimeout,
	}, nil
}

func resolveKeycloak(m *keycloakModel, getenv func(string) string) (*keycloak.Config, diag.Diagnostics) {
	if m == nil {
		m = &keycloakModel{}
	}
	const block = "keycloak"
	server := settingGroup{{block, "url", m.URL}, {block, "realm", m.Realm}}
	auth := settingGroup{
		{block, "auth_realm", m.AuthRealm},
		{block, "client_id", m.ClientID},
		{block, "client_secret", m.ClientSecret},
		{block, "username", m.Username},
		{block, "password", m.Password},
	}
	timeout := requestTimeoutSetting(block, m.RequestTimeout)
	login := settingGroup{{block, "issuer_url", m.IssuerURL}, {block, "issuer_ca_file", m.IssuerCAFile}, {block, "login_client_id", m.LoginClientID}}
	if diags := unknownValues(server, auth, timeout, login); diags.HasError() {
		return nil, diags
	}
	s, a := server.resolve(getenv), auth.resolve(getenv)
	requestTimeout, diags := resolveRequestTimeout(timeout, getenv)
	if s["url"] == "" {
		if s["realm"] != "" || a["client_id"] != "" || a["username"] != "" {
			diags.AddAttributeError(server.path("url"), "Missing Keycloak URL",
				"Keycloak settings are configured but no url: set url or "+server.env("url")+".")
		}
		return nil, diags
	}
	if !strings.HasPrefix(s["url"], "https://") && !strings.HasPrefix(s["url"], "http://") {
		diags.AddAttributeError(server.path("url"), "Invalid Keycloak URL", fmt.Sprintf("%q is not an http(s) URL.", s["url"]))
	}
	if s["realm"] == "" {
		diags.AddAttributeError(server.path("realm"), "Missing Keycloak realm",
			"Set realm (or "+server.env("realm")+") to the realm whose groups grant cluster access.")
	}
	authRealm := a["auth_realm"]
	switch {
	case a["client_id"] != "" && a["username"] != "":
		diags.AddAttributeError(auth.path("client_id"), "Conflicting Keycloak credentials",
			"client_id/client_secret and username/password are alternative ways of logging in to Keycloak; set one pair.")
	case a["client_id"] != "":
		if a["client_secret"] == "" {
			diags.AddAttributeError(auth.path("client_secret"), "Missing Keycloak client secret",
				"client_id needs client_secret (or "+auth.env("client_secret")+").")
		}
		authRealm = withDefault(authRealm, s["realm"])
	case a["username"] != "":
		if a["password"] == "" {
			diags.AddAttributeError(auth.path("password"), "Missing Keycloak password",
				"username needs password (or "+auth.env("password")+").")
		}
		authRealm = withDefault(authRealm, "master")
	default:
		diags.AddAttributeError(auth.path("client_id"), "Missing Keycloak credentials",
			"Configure client_id with client_secret (a confidential client with a service account) or username with password (an admin user).")
	}
	issuer, diags2 := resolveIssuer(login, login.resolve(getenv), s)
	diags.Append(diags2...)
	if diags.HasError() {
		return nil, diags
	}
	return &keycloak.Config{
		IssuerURL:      issuer.url,
		IssuerCAPEM:    issuer.caPEM,
		LoginClientID:  issuer.clientID,
		URL:            s["url"],
		Realm:          s["realm"],
		AuthRealm:      authRealm,
		ClientID:       a["client_id"],
		ClientSecret:   a["client_secret"],
		Username:       a["username"],
		Password:       a["password"],
		RequestTimeout: requestTimeout,
	}, nil
}

// issuerSettings is where users log in to clusters: the issuer and client their kubeconfigs name.
type issuerSettings struct {
	url      string
	caPEM    []byte
	clientID string
}

// resolveIssuer applies the defaults of the log-in settings and reads the issuer's CA file.
func resolveIssuer(login settingGroup, l, server map[string]string) (issuerSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	issuer := issuerSettings{
		url:      withDefault(l["issuer_url"], strings.TrimRight(server["url"], "/")+"/realms/"+server["realm"]),
		clientID: withDefault(l["login_client_id"], defaultLoginClientID),
	}
	if url := l["issuer_url"]; url != "" && !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		diags.AddAttributeError(login.path("issuer_url"), "Invalid OIDC issuer URL", fmt.Sprintf("%q is not an http(s) URL.", issuer.url))
	}
	if file := l["issuer_ca_file"]; file != "" {
		pem, err := os.ReadFile(file)
		switch {
		case err != nil:
			diags.AddAttributeError(login.path("issuer_ca_file"), "Cannot read the issuer's CA file", err.Error())
		case !strings.Contains(string(pem), "-----BEGIN CERTIFICATE-----"):
			diags.AddAttributeError(login.path("issuer_ca_file"), "Invalid issuer CA file", file+" holds no PEM certificate.")
		default:
			issuer.caPEM = pem
		}
	}
	return issuer, diags
}

// defaultRequestTimeout is how long the provider waits for a backend's answer unless configured: long
// enough for a busy API server or a Vault under load, short enough that a hung one fails the plan.
const defaultRequestTimeout = 30 * time.Second

// requestTimeoutSetting is a block's request_timeout, a group of its own: setting it in the
// configuration does not discard the block's connection settings from the environment.
func requestTimeoutSetting(block string, value types.String) settingGroup {
	return settingGroup{{block, "request_timeout", value}}
}

// resolveRequestTimeout parses a block's request_timeout, from configuration or environment; a bad
// value is an error on the attribute even when it came from the environment, which has no path.
func resolveRequestTimeout(g settingGroup, getenv func(string) string) (time.Duration, diag.Diagnostics) {
	value := g.resolve(getenv)["request_timeout"]
	if value == "" {
		return defaultRequestTimeout, nil
	}
	timeout, err := parseRequestTimeout(value)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddAttributeError(g.path("request_timeout"), "Invalid request timeout",
			fmt.Sprintf("%v (from %s or %s).", err, g.path("request_timeout"), g.env("request_timeout")))
		return 0, diags
	}
	return timeout, nil
}

func parseRequestTimeout(value string) (time.Duration, error) {
	timeout, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"30s\" or \"2m\"", value)
	}
	if timeout <= 0 {
		return 0, errors.New("the request timeout must be longer than zero")
	}
	return timeout, nil
}

// requestTimeoutValidator checks request_timeout in the configuration already at validate.
type requestTimeoutValidator struct{}

func (requestTimeoutValidator) Description(context.Context) string {
	return "a duration longer than zero, such as 30s or 2m"
}

func (v requestTimeoutValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (requestTimeoutValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parseRequestTimeout(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid request timeout", err.Error()+".")
	}
}

// The Vault KV mount and the path prefix under it that the provider uses unless configured otherwise.
const (
	defaultKVMount     = "secret"
	defaultVaultPrefix = "idp"
)

func withDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

// validPathSegments accepts Vault mount and prefix paths such as "secret" or "teams/idp".
func validPathSegments(value string) bool {
	for _, segment := range strings.Split(value, "/") {
		if segment == "" || segment == "." || segment == ".." {
			return false
		}
		for _, r := range segment {
			ok := r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}
