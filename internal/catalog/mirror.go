package catalog

// ValidMirror checks an addon_chart_mirror: an OCI registry path or an HTTP chart repository.
func ValidMirror(mirror string) error {
	_, err := parseMirror(mirror)
	return err
}
