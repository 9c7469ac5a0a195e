"""One federated node, step by step: plan -> extract -> import or compute -> load -> clean up.

The only package that holds a node's connections and streams (`session.FederationSession`).
Connectors and engines are handed what they need (a cursor, a stream, a relation name).
"""
