// Package kubebins is a wrapper module that pins k8s.io/kubernetes and its staging
// modules so kube-apiserver and kube-controller-manager can be built from the Go
// module proxy (see e2e/scripts/kube-bins.sh and e2e/README.md).
package kubebins
