# An add-on stack is imported by cluster/stack.
terraform import idp_addon_stack.baseline payments-dev/baseline
