// echo.h: the gSOAP service of bench/api's ceiling: one operation that
// answers what it is sent. Same style as wsdl/kisekae.h (SOAP 1.1,
// document/literal, qualified elements), so the XML work per call compares.
//gsoap ns service name:      Echo
//gsoap ns service namespace: urn:kisekae:bench
//gsoap ns service location:  http://127.0.0.1:17060/
//gsoap ns service style:     document
//gsoap ns service encoding:  literal
//gsoap ns schema namespace:  urn:kisekae:bench
//gsoap ns schema elementForm: qualified

struct ns__EchoResponse {
    char *text 1;
};

int ns__Echo(char *text 1, struct ns__EchoResponse *response);
