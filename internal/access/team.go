package access

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
)

// A team's Keycloak group (idp_team) carries the team's name in attributeTeam, and
// attributeTeamCreated when the team created it. Grants never delete a team's group; the team deletes
// it only when it created it and no grant uses it.
const (
	attributeTeam        = "idp-team"
	attributeTeamCreated = "idp-team-created"
)

// ErrTeamGroupTaken is returned when the group asked for is already another team's.
var ErrTeamGroupTaken = errors.New("the group is another team's")

// TeamGroup is a team's group as the realm holds it.
type TeamGroup struct {
	ID string
	// Created is true when the team created the group, which it then deletes with itself.
	Created bool
}

// EnsureTeamGroup makes group the team's: created when the realm has none of that name, otherwise
// marked as the team's. A group of another team is ErrTeamGroupTaken.
func (e Engine) EnsureTeamGroup(ctx context.Context, team, name string) (TeamGroup, error) {
	defer lockGroup(name)()
	group, found, err := e.Realm.FindGroup(ctx, name)
	if err != nil {
		return TeamGroup{}, err
	}
	if !found {
		group, err = e.Realm.CreateGroup(ctx, name, map[string][]string{attributeTeam: {team}, attributeTeamCreated: {"true"}})
		if err == nil {
			return TeamGroup{ID: group.ID, Created: true}, nil
		}
		if !errors.Is(err, keycloak.ErrConflict) {
			return TeamGroup{}, err
		}
		// Another process created it in between; it is adopted like any group that exists.
		if group, found, err = e.Realm.FindGroup(ctx, name); err != nil {
			return TeamGroup{}, err
		}
		if !found {
			return TeamGroup{}, fmt.Errorf("group %q was created and is gone again", name)
		}
	}
	if owners := group.Attributes[attributeTeam]; len(owners) > 0 && !slices.Equal(owners, []string{team}) {
		return TeamGroup{}, fmt.Errorf("%w: group %q belongs to team %q", ErrTeamGroupTaken, name, owners[0])
	}
	adopted := TeamGroup{ID: group.ID, Created: slices.Contains(group.Attributes[attributeTeamCreated], "true")}
	if slices.Equal(group.Attributes[attributeTeam], []string{team}) {
		return adopted, nil
	}
	attributes := maps.Clone(group.Attributes)
	if attributes == nil {
		attributes = map[string][]string{}
	}
	attributes[attributeTeam] = []string{team}
	group.Attributes = attributes
	return adopted, e.Realm.SetGroupAttributes(ctx, group)
}

// ObserveTeamGroup returns the team's group; found is false when the realm has no group of that name
// or the group is not the team's.
func (e Engine) ObserveTeamGroup(ctx context.Context, team, name string) (TeamGroup, bool, error) {
	group, found, err := e.Realm.FindGroup(ctx, name)
	if err != nil || !found || !slices.Equal(group.Attributes[attributeTeam], []string{team}) {
		return TeamGroup{}, false, err
	}
	return TeamGroup{ID: group.ID, Created: slices.Contains(group.Attributes[attributeTeamCreated], "true")}, true, nil
}

// ReleaseTeamGroup undoes EnsureTeamGroup: a group the team created and no grant uses is deleted; any
// other is left with the team's marks removed. A group the team created that grants still use passes
// to them: the last of them deletes it.
func (e Engine) ReleaseTeamGroup(ctx context.Context, team, name string) error {
	defer lockGroup(name)()
	group, found, err := e.Realm.FindGroup(ctx, name)
	if err != nil || !found || !slices.Equal(group.Attributes[attributeTeam], []string{team}) {
		return err
	}
	created := slices.Contains(group.Attributes[attributeTeamCreated], "true")
	inUse := len(grantEntries(group)) > 0
	// A group grants created, which they left to the team, goes as well once no grant uses it.
	if !inUse && (created || slices.Contains(group.Attributes[attributeCreatedBy], ManagedBy)) {
		return e.Realm.DeleteGroup(ctx, group.ID)
	}
	attributes := maps.Clone(group.Attributes)
	delete(attributes, attributeTeam)
	delete(attributes, attributeTeamCreated)
	if created {
		attributes[attributeCreatedBy] = []string{ManagedBy}
	}
	group.Attributes = attributes
	return e.Realm.SetGroupAttributes(ctx, group)
}

// TeamOfGroup returns the team whose group this is; ok is false when the group is no team's.
func TeamOfGroup(group keycloak.Group) (team string, ok bool) {
	if owners := group.Attributes[attributeTeam]; len(owners) == 1 && owners[0] != "" {
		return owners[0], true
	}
	return "", false
}

// FindTeamGroup returns the name of the team's group, for importing a team; found is false when no
// group is the team's.
func (e Engine) FindTeamGroup(ctx context.Context, team string) (string, bool, error) {
	groups, err := e.Realm.GroupsWithAttribute(ctx, attributeTeam, team)
	if err != nil || len(groups) == 0 {
		return "", false, err
	}
	return groups[0].Name, true, nil
}
