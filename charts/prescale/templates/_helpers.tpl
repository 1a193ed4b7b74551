{{/*
Labels of every object: the same as deploy/ (app.kubernetes.io/name and part-of), plus
commonLabels, plus Helm's standard labels when helmLabels is true.
*/}}
{{- define "prescale.labels" -}}
app.kubernetes.io/name: prescale
app.kubernetes.io/part-of: prescale
{{- if .Values.helmLabels }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The operator pods' selector; never changes with values (a Deployment's selector is immutable). */}}
{{- define "prescale.selectorLabels" -}}
app.kubernetes.io/name: prescale
{{- end }}

{{/* The operator's ServiceAccount as an RBAC subject. */}}
{{- define "prescale.serviceAccountSubject" -}}
- kind: ServiceAccount
  name: prescale
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/* The operator image: repository@digest, or repository:tag (tag defaulting to appVersion). */}}
{{- define "prescale.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* Whether each publishing endpoint is on. */}}
{{- define "prescale.publishKeda" -}}
{{- if and .Values.publishing.enabled .Values.publishing.keda.enabled }}true{{ end -}}
{{- end }}
{{- define "prescale.publishExternalMetrics" -}}
{{- if and .Values.publishing.enabled .Values.publishing.externalMetrics.enabled }}true{{ end -}}
{{- end }}

{{/* Refuses values that would render a broken install. */}}
{{- define "prescale.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "replicas > 1 needs leaderElection.enabled: without it every replica reconciles and they fight over the scale" -}}
{{- end -}}
{{- if and .Values.publishing.enabled (not .Values.publishing.keda.enabled) (not .Values.publishing.externalMetrics.enabled) -}}
{{- fail "publishing.enabled needs publishing.keda.enabled or publishing.externalMetrics.enabled" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) -}}
{{- fail "podDisruptionBudget: set maxUnavailable or minAvailable, not both" -}}
{{- end -}}
{{- end }}
