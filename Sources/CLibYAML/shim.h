// The system libyaml (Debian's libyaml-dev), for the hazard scan's event pass.
#include <yaml.h>
