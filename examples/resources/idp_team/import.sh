# A team is imported by its name; its group is the Keycloak group marked as the team's.
terraform import idp_team.payments payments
