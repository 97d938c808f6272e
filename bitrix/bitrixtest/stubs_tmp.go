package bitrixtest

func registerLists()  {}
func registerIM()     {}
func registerEvents() {}

type listStore struct{}
type imStore struct{}
type eventStore struct{}
type delivery struct{}
type deliveryLog struct{}

func newListStore() *listStore   { return &listStore{} }
func newIMStore() *imStore       { return &imStore{} }
func newEventStore() *eventStore { return &eventStore{} }

func (s *Server) fireEvent(c *call, name string, data any, key string) {}
func (s *Server) deliverAll(out []delivery)                            {}
func (s *Server) deliverAsync(out []delivery)                          {}
