module github.com/idp-platform/terraform-provider-idp/tools/functions

go 1.26.0

// function-auto-ready v0.5.0 is published under crossplane-contrib but its go.mod declares the
// crossplane path; the replace lets it build under the name it declares.
replace github.com/crossplane/function-auto-ready => github.com/crossplane-contrib/function-auto-ready v0.5.0
