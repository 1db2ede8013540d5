// Package validate checks deploy/kubernetes the way an API server would: every object the
// kustomizations produce is decoded strictly into its k8s.io/api type (an unknown field or a
// wrong type fails), then the manifests are checked against each other and against the
// repository's shipped configuration.
package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// objects holds what one kustomization builds, decoded by kind.
type objects struct {
	namespaces   []corev1.Namespace
	deployments  []appsv1.Deployment
	daemonSets   []appsv1.DaemonSet
	services     []corev1.Service
	configMaps   []corev1.ConfigMap
	budgets      []policyv1.PodDisruptionBudget
	accounts     []corev1.ServiceAccount
	roles        []rbacv1.ClusterRole
	roleBindings []rbacv1.ClusterRoleBinding
}

func build(t *testing.T, dir string) objects {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out objects
	for _, resource := range resources.Resources() {
		document, err := resource.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s %s", resource.GetKind(), resource.GetName())
		strict := func(into any) {
			if err := yaml.UnmarshalStrict(document, into); err != nil {
				t.Errorf("%s does not decode strictly: %v", name, err)
			}
		}
		switch resource.GetKind() {
		case "Namespace":
			out.namespaces = append(out.namespaces, decode[corev1.Namespace](strict))
		case "Deployment":
			out.deployments = append(out.deployments, decode[appsv1.Deployment](strict))
		case "DaemonSet":
			out.daemonSets = append(out.daemonSets, decode[appsv1.DaemonSet](strict))
		case "Service":
			out.services = append(out.services, decode[corev1.Service](strict))
		case "ConfigMap":
			out.configMaps = append(out.configMaps, decode[corev1.ConfigMap](strict))
		case "PodDisruptionBudget":
			out.budgets = append(out.budgets, decode[policyv1.PodDisruptionBudget](strict))
		case "ServiceAccount":
			out.accounts = append(out.accounts, decode[corev1.ServiceAccount](strict))
		case "ClusterRole":
			out.roles = append(out.roles, decode[rbacv1.ClusterRole](strict))
		case "ClusterRoleBinding":
			out.roleBindings = append(out.roleBindings, decode[rbacv1.ClusterRoleBinding](strict))
		default:
			t.Errorf("%s: a kind this check does not know; add it", name)
		}
	}
	return out
}

func decode[T any](strict func(any)) T {
	var object T
	strict(&object)
	return object
}

func (o objects) configMap(t *testing.T, prefix string) corev1.ConfigMap {
	t.Helper()
	for _, c := range o.configMaps {
		if strings.HasPrefix(c.Name, prefix+"-") {
			return c
		}
	}
	t.Fatalf("no ConfigMap %s", prefix)
	return corev1.ConfigMap{}
}

func TestSluiceManifests(t *testing.T) {
	o := build(t, "..")
	if len(o.deployments) != 1 {
		t.Fatalf("want one Deployment, got %d", len(o.deployments))
	}
	deployment := o.deployments[0]
	pod := deployment.Spec.Template
	if deployment.Spec.Replicas == nil || *deployment.Spec.Replicas != 2 {
		t.Errorf("replicas: want 2")
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("want one container")
	}
	sluice := pod.Spec.Containers[0]

	// The seed's collector sizing.
	resources := map[string]string{
		"requests.cpu": sluice.Resources.Requests.Cpu().String(), "requests.memory": sluice.Resources.Requests.Memory().String(),
		"limits.cpu": sluice.Resources.Limits.Cpu().String(), "limits.memory": sluice.Resources.Limits.Memory().String(),
	}
	for key, want := range map[string]string{"requests.cpu": "500m", "requests.memory": "512Mi", "limits.cpu": "1", "limits.memory": "1Gi"} {
		if resources[key] != want {
			t.Errorf("%s: got %s, want %s", key, resources[key], want)
		}
	}

	// Every endpoint Sluice serves is a named container port with its protocol.
	ports := map[string]corev1.ContainerPort{}
	for _, p := range sluice.Ports {
		ports[p.Name] = p
	}
	required := map[int32]corev1.Protocol{5044: "TCP", 4317: "TCP", 4318: "TCP", 14268: "TCP", 14250: "TCP", 5778: "TCP", 9600: "TCP", 6831: "UDP", 6832: "UDP"}
	for number, protocol := range required {
		found := false
		for _, p := range sluice.Ports {
			found = found || (p.ContainerPort == number && p.Protocol == protocol)
		}
		if !found {
			t.Errorf("no container port %d/%s", number, protocol)
		}
	}

	// Probes on the API's /ready and /live; a drain gets time.
	probe := func(what string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port != intstr.FromString("api") {
			t.Errorf("%s probe: want GET %s on port api", what, path)
		}
	}
	probe("readiness", sluice.ReadinessProbe, "/ready")
	probe("liveness", sluice.LivenessProbe, "/live")
	if sluice.Lifecycle == nil || sluice.Lifecycle.PreStop == nil {
		t.Errorf("no preStop: SIGTERM would race the endpoint's removal")
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || *g < 60 {
		t.Errorf("terminationGracePeriodSeconds: want ≥ 60 to drain")
	}
	if s := pod.Spec.SecurityContext; s == nil || s.RunAsNonRoot == nil || !*s.RunAsNonRoot {
		t.Errorf("the pod must run as non-root")
	}

	// Services and the budget select the pods and target ports that exist.
	for _, service := range o.services {
		if !selects(service.Spec.Selector, pod.Labels) {
			t.Errorf("Service %s selects no Sluice pod", service.Name)
		}
		for _, sp := range service.Spec.Ports {
			cp, ok := ports[sp.TargetPort.StrVal]
			if !ok || cp.Protocol != sp.Protocol {
				t.Errorf("Service %s port %s targets %q/%s, which the container does not expose", service.Name, sp.Name, sp.TargetPort.String(), sp.Protocol)
			}
		}
	}
	headless := false
	for _, service := range o.services {
		if service.Spec.ClusterIP == corev1.ClusterIPNone {
			headless = true
			if service.Name != "sluice-beats" {
				t.Errorf("the headless Service is %s; filebeat/daemonset.yaml points at sluice-beats", service.Name)
			}
		}
	}
	if !headless {
		t.Errorf("no headless Service for Filebeat's loadbalance")
	}
	if len(o.budgets) != 1 || !selects(o.budgets[0].Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("want one PodDisruptionBudget selecting the Sluice pods")
	}

	// The ConfigMaps hold exactly the repository's shipped settings and pipelines.
	settings := o.configMap(t, "sluice-config")
	shipped := read(t, "../../../config/pipelines.yml")
	if settings.Data["pipelines.yml"] != shipped {
		t.Errorf("deploy/kubernetes/config/pipelines.yml differs from config/pipelines.yml: run scripts/sync-deploy-config.sh")
	}
	pipelines := o.configMap(t, "sluice-pipelines")
	var entries []map[string]any
	if err := yaml.Unmarshal([]byte(shipped), &entries); err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		path, _ := entry["path.config"].(string)
		name := filepath.Base(path)
		if pipelines.Data[name] != read(t, filepath.Join("../../../pipelines", name)) {
			t.Errorf("the ConfigMap's %s is missing or differs from pipelines/%s: run scripts/sync-deploy-config.sh", name, name)
		}
	}
	if len(pipelines.Data) != len(entries) {
		t.Errorf("sluice-pipelines holds %d files for %d pipelines", len(pipelines.Data), len(entries))
	}
	mounts := map[string]string{}
	for _, m := range sluice.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if mounts["config"] != "/etc/sluice/config" || mounts["pipelines"] != "/etc/sluice/pipelines" {
		t.Errorf("settings and pipelines must be mounted side by side (relative path.config): %v", mounts)
	}
	if !contains(sluice.Args, "/etc/sluice/config") {
		t.Errorf("sluice is not started with --path.settings /etc/sluice/config: %v", sluice.Args)
	}
}

func TestFilebeatManifests(t *testing.T) {
	o := build(t, "../filebeat")
	if len(o.daemonSets) != 1 {
		t.Fatalf("want one DaemonSet")
	}
	filebeat := o.daemonSets[0].Spec.Template.Spec.Containers[0]
	if !strings.HasPrefix(filebeat.Image, "docker.elastic.co/beats/filebeat:7.17.") {
		t.Errorf("image %s: the Filebeat these manifests are tested with is 7.17", filebeat.Image)
	}
	host := ""
	for _, e := range filebeat.Env {
		if e.Name == "SLUICE_HOST" {
			host = e.Value
		}
	}
	if host != "sluice-beats" {
		t.Errorf("SLUICE_HOST is %q, want the headless Service sluice-beats", host)
	}
	var config struct {
		Output struct {
			Hosts       []string `json:"hosts"`
			Loadbalance bool     `json:"loadbalance"`
			Pipelining  *int     `json:"pipelining"`
			TTL         string   `json:"ttl"`
		} `json:"output.logstash"`
	}
	if err := yaml.Unmarshal([]byte(o.configMap(t, "filebeat-config").Data["filebeat.yml"]), &config); err != nil {
		t.Fatal(err)
	}
	if !config.Output.Loadbalance {
		t.Errorf("output.logstash.loadbalance must be true")
	}
	if len(config.Output.Hosts) == 0 || !strings.Contains(config.Output.Hosts[0], "${SLUICE_HOST") {
		t.Errorf("output.logstash.hosts does not use SLUICE_HOST: %v", config.Output.Hosts)
	}
	if config.Output.TTL != "" && (config.Output.Pipelining == nil || *config.Output.Pipelining != 0) {
		t.Errorf("Filebeat ignores ttl unless pipelining is 0")
	}
	for _, binding := range o.roleBindings {
		for _, subject := range binding.Subjects {
			if subject.Namespace != "sluice" {
				t.Errorf("ClusterRoleBinding %s binds a ServiceAccount in %q, not where the DaemonSet runs", binding.Name, subject.Namespace)
			}
		}
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func contains(list []string, item string) bool {
	for _, s := range list {
		if s == item {
			return true
		}
	}
	return false
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
