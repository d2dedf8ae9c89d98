{{/* Chart name, overridable. */}}
{{- define "capctl.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; DNS labels are limited to 63 characters. */}}
{{- define "capctl.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "capctl.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that never change over the life of a release (Deployment selector, PDB, Service). */}}
{{- define "capctl.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capctl.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "capctl.labels" -}}
helm.sh/chart: {{ include "capctl.chart" . }}
{{ include "capctl.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: capctl
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "capctl.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "capctl.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "capctl.leaseName" -}}
{{- default (include "capctl.fullname" .) .Values.lease.name }}
{{- end }}

{{- define "capctl.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
ConfigMap key for a file path: keys allow only [-._a-zA-Z0-9], so "mandats/x.yaml" is stored as
"mandats__x.yaml" and mounted back at its path through the volume's `items`.
*/}}
{{- define "capctl.fileKey" -}}
{{- . | replace "/" "__" }}
{{- end }}

{{/*
Volume source for a directory of files (policies, events): an existing ConfigMap, or the chart's own.
Call with (dict "cfg" .Values.policies "name" <chart ConfigMap name>).
*/}}
{{- define "capctl.filesVolume" -}}
{{- if .cfg.existingConfigMap }}
configMap:
  name: {{ .cfg.existingConfigMap }}
  {{- with .cfg.items }}
  items:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- else }}
configMap:
  name: {{ .name }}
  {{- /* Without a sub-directory, no items: keys added to the ConfigMap later appear as files too. */}}
  {{- if gt (len (regexFind "/" (keys .cfg.files | join "|"))) 0 }}
  items:
    {{- range $path, $_ := .cfg.files }}
    - key: {{ include "capctl.fileKey" $path }}
      path: {{ $path }}
    {{- end }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Data section of a chart-created files ConfigMap. toYaml keeps every byte of the content (literal block when
it can, quoted otherwise); a structured value (map/list) is serialised as YAML.
*/}}
{{- define "capctl.filesData" -}}
{{- $data := dict }}
{{- range $path, $content := . }}
{{- if or (hasPrefix "/" $path) (has ".." (splitList "/" $path)) }}
{{- fail (printf "file path %q must be relative and stay inside its directory" $path) }}
{{- end }}
{{- $_ := set $data (include "capctl.fileKey" $path) (ternary $content (printf "%s\n" (toYaml $content)) (kindIs "string" $content)) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/*
The operator's RBAC rules on plaque workloads: exactly the calls capacity/operator/kube makes, per mode.
  every mode:      LIST Deployments, StatefulSets and HPAs (observe.py: one list per namespace and kind);
  floor, direct:   GET (fresh read after a 409) and PATCH (merge patch) HPAs; CREATE core/v1 Events;
  direct:          GET and PATCH the scale subresource of Deployments and StatefulSets.
recommend mode writes nothing to workloads: read-only. No watch, no update, no events.k8s.io, no delete.
*/}}
{{- define "capctl.workloadRules" -}}
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets"]
  verbs: ["list"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: {{ if eq .Values.mode "recommend" }}["list"]{{ else }}["list", "get", "patch"]{{ end }}
{{- if eq .Values.mode "direct" }}
- apiGroups: ["apps"]
  resources: ["deployments/scale", "statefulsets/scale"]
  verbs: ["get", "patch"]
{{- end }}
{{- if ne .Values.mode "recommend" }}
{{ include "capctl.eventRules" . }}
{{- end }}
{{- end }}

{{/* Events (core/v1 only: events.py creates them, never patches or updates them). */}}
{{- define "capctl.eventRules" -}}
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* Validation of values that would otherwise only fail at runtime, inside the pod. */}}
{{- define "capctl.validate" -}}
{{- if not (has .Values.mode (list "recommend" "floor" "direct")) }}
{{- fail (printf "mode must be one of recommend, floor, direct (got %q)" (toString .Values.mode)) }}
{{- end }}
{{- $tick := .Values.tick }}
{{- if not (or (kindIs "float64" $tick) (kindIs "int64" $tick) (kindIs "int" $tick)) }}
{{- fail (printf "tick must be a whole, positive number of seconds (got %v)" $tick) }}
{{- else if or (le (float64 $tick) 0.0) (ne (float64 (int64 $tick)) (float64 $tick)) }}
{{- fail (printf "tick must be a whole, positive number of seconds (got %v)" $tick) }}
{{- end }}
{{- if and .Values.prometheus.auth.existingSecret (not (has .Values.prometheus.auth.type (list "token" "basic"))) }}
{{- fail (printf "prometheus.auth.type must be token or basic (got %q)" (toString .Values.prometheus.auth.type)) }}
{{- end }}
{{- if and .Values.prometheus.auth.existingSecret (not .Values.prometheus.url) }}
{{- fail "prometheus.auth.existingSecret is set but prometheus.url is empty: set the Prometheus URL" }}
{{- end }}
{{- if and .Values.model.content .Values.model.existingConfigMap }}
{{- fail "set either model.content or model.existingConfigMap, not both" }}
{{- end }}
{{- if and .Values.policies.files .Values.policies.existingConfigMap }}
{{- fail "set either policies.files or policies.existingConfigMap, not both" }}
{{- end }}
{{- if and .Values.events.files .Values.events.existingConfigMap }}
{{- fail "set either events.files or events.existingConfigMap, not both" }}
{{- end }}
{{- if .Values.rbac.create }}
{{- if and .Values.rbac.clusterWide .Values.watchNamespaces }}
{{- fail "set either watchNamespaces (a Role per namespace) or rbac.clusterWide=true (one ClusterRole), not both" }}
{{- end }}
{{- if not (or .Values.rbac.clusterWide .Values.watchNamespaces) }}
{{- fail "watchNamespaces is empty: list the plaque namespaces (the `namespace:` of each plaque in topology.yaml) so that RBAC grants Roles there only, or set rbac.clusterWide=true to grant the same verbs in every namespace (a ClusterRole)" }}
{{- end }}
{{- end }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (toString .Values.state.configMapName)) }}
{{- fail (printf "state.configMapName must be a DNS-1123 name (got %q)" (toString .Values.state.configMapName)) }}
{{- end }}
{{- end }}

{{/* Port of Prometheus for the NetworkPolicy: networkPolicy.prometheus.port, else that of prometheus.url. */}}
{{- define "capctl.prometheusPort" -}}
{{- if .Values.networkPolicy.prometheus.port }}
{{- .Values.networkPolicy.prometheus.port }}
{{- else }}
{{- $url := urlParse .Values.prometheus.url }}
{{- $hostPort := splitList ":" $url.host }}
{{- if gt (len $hostPort) 1 }}
{{- last $hostPort }}
{{- else }}
{{- ternary 443 80 (eq $url.scheme "https") }}
{{- end }}
{{- end }}
{{- end }}

{{/*
checkov skip annotations for the findings that follow from the values in use, each with its reason. A value
that fixes the finding (a CPU limit, a digest, pullPolicy Always, the NetworkPolicy) removes its skip.
*/}}
{{- define "capctl.checkovSkips" -}}
{{- $skips := list }}
{{- if not (and .Values.resources.limits .Values.resources.limits.cpu) }}
{{- $skips = append $skips "CKV_K8S_11=No CPU limit by default: CFS throttling would delay the leader's Lease renewal and lose it; resources.requests.cpu guarantees its share. Set resources.limits.cpu to add one" }}
{{- end }}
{{- if not .Values.image.digest }}
{{- $skips = append $skips "CKV_K8S_43=The image is pinned by its release tag (the chart's appVersion, never rebuilt). Set image.digest to pin it by digest" }}
{{- end }}
{{- if ne .Values.image.pullPolicy "Always" }}
{{- $skips = append $skips "CKV_K8S_15=Release tags are never moved: IfNotPresent keeps restarts of the control loop independent of the registry. Set image.pullPolicy to Always if you move tags" }}
{{- end }}
{{- if not .Values.networkPolicy.enabled }}
{{- $skips = append $skips "CKV2_K8S_6=networkPolicy.enabled is false by default: API server addresses and ports differ per cluster and a wrong policy stops the operator. Enable it with your cluster's values" }}
{{- end }}
{{- range $i, $skip := $skips }}
checkov.io/skip{{ add1 $i }}: {{ $skip | quote }}
{{- end }}
{{- end }}
