"""Quality: SHACL validation of the graph and the checks that data must pass before it is served."""
