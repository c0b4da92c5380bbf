module gin-blog

go 1.16

require (
	github.com/gin-gonic/gin v1.7.2
	github.com/go-sql-driver/mysql v1.6.0
	github.com/jinzhu/gorm v1.9.16
	github.com/spf13/viper v1.8.1
	github.com/dgrijalva/jwt-go v3.2.0+incompatible
	github.com/sirupsen/logrus v1.8.1
	github.com/go-redis/redis v6.15.9+incompatible
	github.com/swaggo/gin-swagger v1.3.0
	github.com/swaggo/swag v1.7.0
	github.com/unknwon/com v1.0.1
	github.com/astaxie/beego v1.12.3
	github.com/golang/protobuf v1.5.2 // indirect
	github.com/json-iterator/go v1.1.11 // indirect
	github.com/ugorji/go v1.2.6 // indirect
)
