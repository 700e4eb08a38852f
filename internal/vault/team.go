package vault

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// teamPrefix names what the store keeps per team: the ACL policy and the AppRole role idp-team-<team>.
const teamPrefix = "idp-team-"

// TeamNamePattern is a team's name: a DNS-1123 label short enough that idp-team-<team> is one too.
var TeamNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,52}[a-z0-9])?$`)

// ClusterPattern is a cluster a team owns: a cluster name, or a name prefix followed by "*".
var ClusterPattern = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?|[a-z0-9][-a-z0-9]{0,61}\*)$`)

// ValidTeamName reports whether name can name a team.
func ValidTeamName(name string) bool { return TeamNamePattern.MatchString(name) }

// ValidClusterPattern reports whether pattern names clusters a team may own: a DNS-1123 label, or a
// prefix of one followed by "*".
func ValidClusterPattern(pattern string) bool { return ClusterPattern.MatchString(pattern) }

// teamPolicyHeader starts every team policy the store writes; a policy of that name without it is
// someone else's, which the store does not overwrite.
const teamPolicyHeader = "# Written by terraform-provider-idp (idp_team) for team"

// ErrNotOurs is returned when Vault holds a policy of a team's name that the store did not write.
var ErrNotOurs = errors.New("not written by the provider")

// ErrClustersTaken is returned when a team would own clusters that another team owns: a cluster's
// kubeconfig is one team's to write.
var ErrClustersTaken = errors.New("clusters owned by another team")

// TeamRole is the name of a team's Vault policy and AppRole role.
func TeamRole(team string) string { return teamPrefix + team }

// Team is what a team's runs may reach in Vault: the cloud credentials under credentials/<team>/ and
// the kubeconfigs of the clusters it owns, which it may write as it creates or registers them.
type Team struct {
	Name     string
	Clusters []string
	// TokenTTL is how long a login of the team's AppRole lasts.
	TokenTTL time.Duration
}

// TeamState is what Vault holds for a team.
type TeamState struct {
	// Policy is the text of the team's ACL policy.
	Policy string
	// RoleID is the AppRole role ID of the team's role; "" when the role is missing.
	RoleID string
	// Clusters are the clusters the policy reaches, as Team.Clusters names them.
	Clusters []string
	// TokenPolicies and TokenTTL are the role's settings.
	TokenPolicies []string
	TokenTTL      time.Duration
}

// TeamPolicy is the ACL policy of a team in a KV v2 mount and prefix, the one place its paths are
// written.
func TeamPolicy(kvMount, prefix string, team Team) (string, error) {
	if !ValidTeamName(team.Name) {
		return "", fmt.Errorf("team name %q is not a DNS-1123 label of at most 54 characters", team.Name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: its cloud credentials and its clusters' kubeconfigs.\n", teamPolicyHeader, team.Name)
	rule := func(path string, capabilities ...string) {
		quoted := make([]string, len(capabilities))
		for i, capability := range capabilities {
			quoted[i] = strconv.Quote(capability)
		}
		fmt.Fprintf(&b, "path %q {\n  capabilities = [%s]\n}\n", path, strings.Join(quoted, ", "))
	}
	credentials := prefix + "/credentials/" + team.Name + "/*"
	rule(kvMount+"/data/"+credentials, "read")
	rule(kvMount+"/metadata/"+credentials, "read", "list")
	// Every team may list the clusters' names (idp_clusters, idp_catalog), not read their kubeconfigs;
	// Vault checks a list against the folder's path with its trailing slash.
	rule(kvMount+"/metadata/"+prefix+"/clusters/", "list")
	for _, pattern := range sortedUnique(team.Clusters) {
		if !ValidClusterPattern(pattern) {
			return "", fmt.Errorf("cluster %q is neither a DNS-1123 label nor a prefix of one followed by '*'", pattern)
		}
		kubeconfig := prefix + "/clusters/" + pattern
		if !strings.HasSuffix(pattern, "*") {
			kubeconfig += "/kubeconfig"
		}
		rule(kvMount+"/data/"+kubeconfig, "create", "read", "update")
		rule(kvMount+"/metadata/"+kubeconfig, "read", "delete")
	}
	return b.String(), nil
}

// PutTeam writes a team's policy and its AppRole role, replacing what Vault held for it.
func (c *Client) PutTeam(ctx context.Context, team Team) (TeamState, error) {
	policy, err := TeamPolicy(c.kvMount, c.prefix, team)
	if err != nil {
		return TeamState{}, err
	}
	role := TeamRole(team.Name)
	switch existing, err := c.api.Sys().GetPolicyWithContext(ctx, role); {
	case err != nil:
		return TeamState{}, fmt.Errorf("cannot read Vault policy %q: %w", role, denied(err))
	case existing != "" && !strings.HasPrefix(existing, teamPolicyHeader):
		return TeamState{}, fmt.Errorf("%w: Vault policy %q exists and was not written by idp_team", ErrNotOurs, role)
	}
	if err := c.checkClustersFree(ctx, team); err != nil {
		return TeamState{}, err
	}
	if err := c.api.Sys().PutPolicyWithContext(ctx, role, policy); err != nil {
		return TeamState{}, fmt.Errorf("cannot write Vault policy %q: %w", role, denied(err))
	}
	settings := map[string]any{"token_policies": []string{role}, "token_ttl": int(team.TokenTTL.Seconds()), "token_max_ttl": int(team.TokenTTL.Seconds())}
	if _, err := c.api.Logical().WriteWithContext(ctx, c.rolePath(role), settings); err != nil {
		return TeamState{}, fmt.Errorf("cannot write AppRole role %q at auth/%s: %w", role, c.appRoleMount, denied(err))
	}
	return c.GetTeam(ctx, team.Name)
}

// GetTeam reads what Vault holds for a team; ErrNotFound when it holds neither its policy nor its role.
func (c *Client) GetTeam(ctx context.Context, name string) (TeamState, error) {
	if !ValidTeamName(name) {
		return TeamState{}, fmt.Errorf("team name %q is not a DNS-1123 label of at most 54 characters", name)
	}
	role := TeamRole(name)
	policy, err := c.api.Sys().GetPolicyWithContext(ctx, role)
	if err != nil {
		return TeamState{}, fmt.Errorf("cannot read Vault policy %q: %w", role, denied(err))
	}
	state := TeamState{Policy: policy, Clusters: teamClusters(c.kvMount, c.prefix, policy)}
	settings, err := c.api.Logical().ReadWithContext(ctx, c.rolePath(role))
	if err != nil {
		return TeamState{}, fmt.Errorf("cannot read AppRole role %q at auth/%s: %w", role, c.appRoleMount, denied(err))
	}
	if settings == nil {
		if policy == "" {
			return TeamState{}, fmt.Errorf("team %q: %w", name, ErrNotFound)
		}
		return state, nil
	}
	policies, _ := settings.Data["token_policies"].([]any)
	for _, p := range policies {
		if s, ok := p.(string); ok {
			state.TokenPolicies = append(state.TokenPolicies, s)
		}
	}
	if ttl, err := jsonSeconds(settings.Data["token_ttl"]); err == nil {
		state.TokenTTL = ttl
	}
	roleID, err := c.api.Logical().ReadWithContext(ctx, c.rolePath(role)+"/role-id")
	if err != nil {
		return TeamState{}, fmt.Errorf("cannot read the role ID of AppRole role %q: %w", role, denied(err))
	}
	if roleID != nil {
		state.RoleID, _ = roleID.Data["role_id"].(string)
	}
	return state, nil
}

// DeleteTeam removes a team's role, with every secret ID issued for it, and its policy. A team Vault
// does not know is not an error.
func (c *Client) DeleteTeam(ctx context.Context, name string) error {
	if !ValidTeamName(name) {
		return fmt.Errorf("team name %q is not a DNS-1123 label of at most 54 characters", name)
	}
	role := TeamRole(name)
	if _, err := c.api.Logical().DeleteWithContext(ctx, c.rolePath(role)); err != nil {
		return fmt.Errorf("cannot delete AppRole role %q at auth/%s: %w", role, c.appRoleMount, denied(err))
	}
	if err := c.api.Sys().DeletePolicyWithContext(ctx, role); err != nil {
		return fmt.Errorf("cannot delete Vault policy %q: %w", role, denied(err))
	}
	return nil
}

// AppRoleMount is the mount of the AppRole auth method teams log in with.
func (c *Client) AppRoleMount() string { return c.appRoleMount }

func (c *Client) rolePath(role string) string {
	return "auth/" + c.appRoleMount + "/role/" + role
}

// ClusterAccess is what the login may do with a cluster and its cloud credentials.
type ClusterAccess struct {
	// ReadCredentials: the login may read the credentials.
	ReadCredentials bool
	// WriteKubeconfig: the login may write the cluster's kubeconfig, as creating or registering it does.
	WriteKubeconfig bool
}

// ClusterAccess asks Vault what the login may do with a cluster's kubeconfig and, when credentials is
// set, with those cloud credentials, in one request that changes nothing. A login that may not ask
// (no default policy) gets ErrPermissionDenied.
func (c *Client) ClusterAccess(ctx context.Context, cluster, credentials string) (ClusterAccess, error) {
	kubeconfig, err := c.KubeconfigPath(cluster)
	if err != nil {
		return ClusterAccess{}, err
	}
	kubeconfig = c.kvMount + "/data/" + kubeconfig
	paths := []string{kubeconfig}
	credentialsPath := ""
	if credentials != "" {
		if !ValidCredentialsName(credentials) {
			return ClusterAccess{}, fmt.Errorf("credentials name %q is not DNS-1123 labels joined by '/'", credentials)
		}
		credentialsPath = c.kvMount + "/data/" + c.prefix + "/credentials/" + credentials
		paths = append(paths, credentialsPath)
	}
	answer, err := c.api.Logical().WriteWithContext(ctx, "sys/capabilities-self", map[string]any{"paths": paths})
	if err != nil {
		return ClusterAccess{}, fmt.Errorf("cannot ask Vault what this login may do with cluster %q: %w", cluster, denied(err))
	}
	if answer == nil {
		return ClusterAccess{}, errors.New("vault answered sys/capabilities-self without data")
	}
	capabilities := func(path string) []string {
		var out []string
		list, _ := answer.Data[path].([]any)
		for _, v := range list {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	may := func(path string, wanted ...string) bool {
		got := capabilities(path)
		if slices.Contains(got, "root") {
			return true
		}
		for _, w := range wanted {
			if !slices.Contains(got, w) {
				return false
			}
		}
		return true
	}
	access := ClusterAccess{WriteKubeconfig: may(kubeconfig, "create", "update")}
	if credentialsPath != "" {
		access.ReadCredentials = may(credentialsPath, "read")
	}
	return access, nil
}

// ClusterOverlap is a cluster pattern of a team that names clusters another team's pattern names too.
type ClusterOverlap struct {
	Cluster      string
	OtherTeam    string
	OtherCluster string
}

func (o ClusterOverlap) String() string {
	return fmt.Sprintf("%s overlaps team %s's %s", o.Cluster, o.OtherTeam, o.OtherCluster)
}

// ClusterOverlaps finds the clusters of team that other teams' policies (written by idp_team, under
// this store's mount and prefix) already reach: one LIST of the ACL policies and one read per team.
func (c *Client) ClusterOverlaps(ctx context.Context, team Team) ([]ClusterOverlap, error) {
	teams, err := c.Teams(ctx)
	if err != nil {
		return nil, err
	}
	var overlaps []ClusterOverlap
	for _, other := range teams {
		if other.Name == team.Name {
			continue
		}
		for _, theirs := range other.Clusters {
			for _, ours := range sortedUnique(team.Clusters) {
				if clusterPatternsOverlap(ours, theirs) {
					overlaps = append(overlaps, ClusterOverlap{Cluster: ours, OtherTeam: other.Name, OtherCluster: theirs})
				}
			}
		}
	}
	return overlaps, nil
}

// TeamClusters is a team idp_team wrote into Vault and the clusters (names, or prefixes followed by
// "*") its policy owns.
type TeamClusters struct {
	Name     string
	Clusters []string
}

// Owns says whether the team owns the cluster.
func (t TeamClusters) Owns(cluster string) bool {
	return slices.ContainsFunc(t.Clusters, func(pattern string) bool { return clusterPatternsOverlap(pattern, cluster) })
}

// Teams lists the teams idp_team wrote under this store's mount and prefix, by name, with their
// clusters: one LIST of the ACL policies and one read per team. The login needs list on
// sys/policies/acl and read on the teams' policies.
func (c *Client) Teams(ctx context.Context) ([]TeamClusters, error) {
	listed, err := c.api.Logical().ListWithContext(ctx, "sys/policies/acl")
	if err != nil {
		return nil, fmt.Errorf("cannot list the Vault ACL policies: %w", denied(err))
	}
	var names []string
	if listed != nil {
		keys, _ := listed.Data["keys"].([]any)
		for _, key := range keys {
			if name, ok := key.(string); ok && strings.HasPrefix(name, teamPrefix) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	var teams []TeamClusters
	for _, name := range names {
		policy, err := c.api.Sys().GetPolicyWithContext(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("cannot read Vault policy %q: %w", name, denied(err))
		}
		if !strings.HasPrefix(policy, teamPolicyHeader) {
			continue
		}
		teams = append(teams, TeamClusters{Name: strings.TrimPrefix(name, teamPrefix), Clusters: teamClusters(c.kvMount, c.prefix, policy)})
	}
	return teams, nil
}

// TeamSecretsPath is a team's folder in the KV mount, where its cloud credentials are: <prefix>/credentials/<team>.
func (c *Client) TeamSecretsPath(team string) string { return c.prefix + "/credentials/" + team }

// ClusterSecretsPath is a cluster's folder in the KV mount, which holds its kubeconfig: <prefix>/clusters/<name>.
func (c *Client) ClusterSecretsPath(cluster string) string { return clusterFolder(c.prefix, cluster) }

// KVMountPath is the path of the KV mount the store keeps its secrets in.
func (c *Client) KVMountPath() string { return c.kvMount }

// checkClustersFree refuses clusters another team owns.
func (c *Client) checkClustersFree(ctx context.Context, team Team) error {
	overlaps, err := c.ClusterOverlaps(ctx, team)
	if err != nil || len(overlaps) == 0 {
		return err
	}
	described := make([]string, len(overlaps))
	for i, o := range overlaps {
		described[i] = o.String()
	}
	return fmt.Errorf("%w: %s", ErrClustersTaken, strings.Join(described, "; "))
}

// clusterPatternsOverlap says whether some cluster name matches both patterns (a name, or a prefix
// followed by "*").
func clusterPatternsOverlap(a, b string) bool {
	aPrefix, aIsPrefix := strings.CutSuffix(a, "*")
	bPrefix, bIsPrefix := strings.CutSuffix(b, "*")
	switch {
	case aIsPrefix && bIsPrefix:
		return strings.HasPrefix(aPrefix, bPrefix) || strings.HasPrefix(bPrefix, aPrefix)
	case aIsPrefix:
		return strings.HasPrefix(b, aPrefix)
	case bIsPrefix:
		return strings.HasPrefix(a, bPrefix)
	}
	return a == b
}

// teamClusters reads the clusters back from a team policy's kubeconfig rules.
func teamClusters(kvMount, prefix, policy string) []string {
	var clusters []string
	start := fmt.Sprintf("path %q", kvMount+"/data/"+prefix+"/clusters/")
	start = strings.TrimSuffix(start, `"`)
	for _, line := range strings.Split(policy, "\n") {
		rest, ok := strings.CutPrefix(line, start)
		if !ok {
			continue
		}
		pattern, _, _ := strings.Cut(rest, `"`)
		pattern = strings.TrimSuffix(pattern, "/kubeconfig")
		if ValidClusterPattern(pattern) {
			clusters = append(clusters, pattern)
		}
	}
	return sortedUnique(clusters)
}

// jsonSeconds reads a duration Vault gives as a number of seconds.
func jsonSeconds(value any) (time.Duration, error) {
	switch v := value.(type) {
	case float64:
		return time.Duration(v) * time.Second, nil
	case interface{ Int64() (int64, error) }:
		n, err := v.Int64()
		return time.Duration(n) * time.Second, err
	}
	return 0, fmt.Errorf("%v is not a number of seconds", value)
}

func sortedUnique(values []string) []string {
	out := slices.Clone(values)
	slices.Sort(out)
	return slices.Compact(out)
}
